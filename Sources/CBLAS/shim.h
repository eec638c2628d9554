// CBLAS: the one header the engine needs from OpenBLAS (Debian: libopenblas-dev).
#include <cblas.h>
// Not declared in every cblas.h, but exported by OpenBLAS.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
