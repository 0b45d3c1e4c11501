/* cli: the command line — commands, their options and help. */
#ifndef MAILLAGE_CLI_H
#define MAILLAGE_CLI_H

/* Run the command line; returns the process exit status (0 ok, 1 failure, 2 usage error). */
int cli_main(int argc, char **argv);

#endif
