/* smmintrin.h for wasm32: see emmintrin.h */
#include <emmintrin.h>
