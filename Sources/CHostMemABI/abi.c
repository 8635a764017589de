// The C ABI's types and declarations (include/hostmem.h) for the Swift code that
// implements it (HostMemCABI, with @_cdecl). One function is defined here, in C, because
// its value is a macro of the header: the version, written once.
#include "hostmem.h"

const char *hostmem_version(void) { return HOSTMEM_VERSION; }
