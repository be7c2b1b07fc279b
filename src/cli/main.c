/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect: one executable, many subcommands. This file only dispatches;
 * each subcommand parses its own options and returns its exit code
 * (0 ok, 1 runtime failure, 2 usage or config error, 3 partial).
 */
#include <sdconnect/sdconnect.h>

#include "localsd_main.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: sdconnect COMMAND [OPTIONS]\n"
    "       sdconnect --version | --help\n"
    "\n"
    "Reach private services the way Google's Service Directory path does.\n"
    "\n"
    "Commands:\n"
    "  sd-server   run a local Service Directory (gRPC v1 API)\n"
    "\n"
    "Run 'sdconnect COMMAND --help' for a command's options.\n"
    "Exit status: 0 ok, 1 runtime failure, 2 usage or configuration error,\n"
    "3 partial failure.\n";

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"sd-server", sdc_localsd_main},
};

int main(int argc, char **argv)
{
  if(argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  if(!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
     !strcmp(argv[1], "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if(!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    printf("sdconnect %s\n", sdc_version());
    return 0;
  }
  for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if(!strcmp(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "sdconnect: unknown command '%s'\nhint: run 'sdconnect "
          "--help' for the list of commands\n", argv[1]);
  return 2;
}
