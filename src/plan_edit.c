/* plan_edit: placeholder until written. */
#include "http.h"
const struct route plan_edit_routes[] = {{0}};
