/* fiches: placeholder until written. */
#include "http.h"
const struct route fiche_routes[] = {{0}};
