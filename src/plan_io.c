/* plan_io: placeholder until written. */
#include "http.h"
const struct route plan_io_routes[] = {{0}};
