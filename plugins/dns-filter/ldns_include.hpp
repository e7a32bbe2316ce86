// Include ldns through this header. ldns/common.h defines the macros bool, true and false in C++
// unless stdbool.h says they exist; GCC's <stdbool.h> does, so it must come first.
#pragma once

#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): see above

#include <ldns/ldns.h>
