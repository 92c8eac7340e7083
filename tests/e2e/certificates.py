#!/usr/bin/python3
"""Test certificates for finch's TLS tests, made with Debian's openssl command.

Usage: /usr/bin/python3 tests/e2e/certificates.py DIRECTORY

Writes into DIRECTORY (which must exist) a test certificate authority and
server certificates it signed, and prints their paths as one JSON object
(what tests/js/support/certificates.mjs reads). Python tests import it and
call make_certificates(directory) instead. Nothing here is secret or lasts:
the keys are made anew for each test run and the certificates expire in two
days.

The files:
  ca          ca.pem: the test CA's certificate, what clients must trust
  cert, key   server.pem, server.key: for DNS name "localhost" and IP
              address 127.0.0.1, signed by the CA
  otherCert,  other.pem, other.key: for "other.localhost" only, signed by
  otherKey    the CA (a certificate that is valid, but not for 127.0.0.1)
  caKey       ca.key: the CA's private key (a key that belongs to no
              server certificate, for the test of a mismatched pair)
"""

import json
import os
import subprocess
import sys

OPENSSL = "/usr/bin/openssl"
DAYS = "2"
TIMEOUT = 30

# A minimal configuration, so that the system's openssl.cnf (its default
# extensions) cannot change what is made.
REQUEST_CONFIG = """\
[req]
distinguished_name = name
prompt = no
[name]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = {names}
"""


def _openssl(*arguments):
    result = subprocess.run([OPENSSL, *arguments], capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(arguments)} failed ({result.returncode}): {result.stderr.strip()}")


def _key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


def _server_certificate(directory, name, common_name, alt_names, config, ca, ca_key):
    key = os.path.join(directory, f"{name}.key")
    request = os.path.join(directory, f"{name}.csr")
    certificate = os.path.join(directory, f"{name}.pem")
    extensions = os.path.join(directory, f"{name}.ext")
    with open(extensions, "w", encoding="ascii") as file:
        file.write(SERVER_EXTENSIONS.format(names=alt_names))
    _key(key)
    _openssl("req", "-new", "-config", config, "-key", key, "-subj", f"/CN={common_name}", "-out", request)
    serial = str(int.from_bytes(os.urandom(8), "big"))
    _openssl("x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-set_serial", serial,
             "-days", DAYS, "-sha256", "-extfile", extensions, "-out", certificate)
    return certificate, key


def make_certificates(directory):
    """Makes the test CA and its server certificates in `directory`; returns
    their paths (the keys are described in this module's docstring)."""
    config = os.path.join(directory, "openssl.cnf")
    with open(config, "w", encoding="ascii") as file:
        file.write(REQUEST_CONFIG)
    ca = os.path.join(directory, "ca.pem")
    ca_key = os.path.join(directory, "ca.key")
    _key(ca_key)
    _openssl("req", "-new", "-x509", "-config", config, "-extensions", "ca", "-key", ca_key,
             "-subj", "/CN=finch test CA", "-days", DAYS, "-sha256", "-out", ca)
    cert, key = _server_certificate(directory, "server", "localhost", "DNS:localhost, IP:127.0.0.1", config, ca, ca_key)
    other_cert, other_key = _server_certificate(directory, "other", "other.localhost", "DNS:other.localhost",
                                                config, ca, ca_key)
    return {"ca": ca, "caKey": ca_key, "cert": cert, "key": key, "otherCert": other_cert, "otherKey": other_key}


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    print(json.dumps(make_certificates(os.path.abspath(sys.argv[1]))))
