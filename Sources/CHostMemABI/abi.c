// The C ABI's types and declarations (include/hostmem.h) for the Swift code that
// implements it (HostMemCABI, with @_cdecl). Nothing is defined here.
