#ifndef FINCH_TESTS_SUPPORT_TEST_CERTIFICATES_HPP
#define FINCH_TESTS_SUPPORT_TEST_CERTIFICATES_HPP

// Test support: a certificate authority made when the test runs (OpenSSL's
// API, P-256 keys), and server certificates it signs, as PEM files in a
// temporary directory removed afterwards. Nothing is kept between runs, so
// no certificate in the repository can expire and break the tests.

#include <finch/tls_context.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

namespace finch::test {

class TestAuthority {
public:
    TestAuthority()
        : directory_(std::filesystem::temp_directory_path() / ("finch-tls-" + std::to_string(std::random_device{}()) +
                                                                  "-" + std::to_string(++counter())))
        , key_(newKey())
        , certificate_(X509_new(), &X509_free)
    {
        std::filesystem::create_directories(directory_);
        X509* const ca = certificate_.get();
        fill(ca, "finch test authority");
        X509_set_issuer_name(ca, X509_get_subject_name(ca));
        X509_set_pubkey(ca, key_.get());
        extend(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
        extend(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
        extend(ca, ca, NID_subject_key_identifier, "hash");
        if (X509_sign(ca, key_.get(), EVP_sha256()) == 0)
            throw std::runtime_error("test authority: cannot sign");
        caFile_ = (directory_ / "ca.pem").string();
        writeCertificate(caFile_, ca);
        ERR_clear_error();
    }

    ~TestAuthority()
    {
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }

    TestAuthority(const TestAuthority&) = delete;
    TestAuthority& operator=(const TestAuthority&) = delete;

    // The authority's certificate, for clients to trust.
    const std::string& caFile() const { return caFile_; }

    // A server certificate with common name `name`, valid for the
    // `subjectAltName` list `names` ("DNS:localhost,IP:127.0.0.1"), and its key.
    TlsCertificate issue(const std::string& name, const std::string& names = "DNS:localhost,IP:127.0.0.1")
    {
        const auto key = newKey();
        const std::unique_ptr<X509, decltype(&X509_free)> leaf(X509_new(), &X509_free);
        X509* const x = leaf.get();
        fill(x, name);
        X509_set_issuer_name(x, X509_get_subject_name(certificate_.get()));
        X509_set_pubkey(x, key.get());
        extend(x, certificate_.get(), NID_basic_constraints, "critical,CA:FALSE");
        extend(x, certificate_.get(), NID_ext_key_usage, "serverAuth");
        extend(x, certificate_.get(), NID_subject_alt_name, names);
        if (X509_sign(x, key_.get(), EVP_sha256()) == 0)
            throw std::runtime_error("test authority: cannot sign " + name);
        TlsCertificate files{(directory_ / (name + ".pem")).string(), (directory_ / (name + ".key")).string()};
        writeCertificate(files.chainFile, x);
        writeKey(files.keyFile, key.get());
        // OpenSSL's error queue is per thread, and the test's TLS client on
        // this thread reports the oldest entry: leave none behind.
        ERR_clear_error();
        return files;
    }

    // A path inside the temporary directory, for a test's own files.
    std::string path(const std::string& file) const { return (directory_ / file).string(); }

private:
    using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

    static int& counter()
    {
        static int count = 0;
        return count;
    }

    static Key newKey()
    {
        Key key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
        if (!key)
            throw std::runtime_error("test authority: cannot make a key");
        return key;
    }

    void fill(X509* x, const std::string& commonName)
    {
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial_);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1, 0);
    }

    static void extend(X509* x, X509* issuer, int nid, const std::string& value)
    {
        X509V3_CTX context;
        X509V3_set_ctx(&context, issuer, x, nullptr, nullptr, 0);
        X509_EXTENSION* const extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
        if (!extension)
            throw std::runtime_error("test authority: bad extension " + value);
        X509_add_ext(x, extension, -1);
        X509_EXTENSION_free(extension);
    }

    static void writeCertificate(const std::string& file, X509* x)
    {
        const std::unique_ptr<FILE, decltype(&std::fclose)> out(std::fopen(file.c_str(), "w"), &std::fclose);
        if (!out || PEM_write_X509(out.get(), x) != 1)
            throw std::runtime_error("test authority: cannot write " + file);
    }

    static void writeKey(const std::string& file, EVP_PKEY* key)
    {
        const std::unique_ptr<FILE, decltype(&std::fclose)> out(std::fopen(file.c_str(), "w"), &std::fclose);
        if (!out || PEM_write_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
            throw std::runtime_error("test authority: cannot write " + file);
    }

    std::filesystem::path directory_;
    Key key_;
    std::unique_ptr<X509, decltype(&X509_free)> certificate_;
    std::string caFile_;
    long serial_ = 0;
};

}  // namespace finch::test

#endif
