/* cycle: placeholder until written. */
#include "http.h"
const struct route cycle_routes[] = {{0}};
