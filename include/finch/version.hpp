#ifndef FINCH_VERSION_HPP
#define FINCH_VERSION_HPP

/// finch's version as major * 10000 + minor * 100 + patch.
#define FINCH_VERSION 100
/// finch's version as a string.
#define FINCH_VERSION_STRING "0.1.0"

#endif
