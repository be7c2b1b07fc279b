/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect: one executable, many subcommands. This file only dispatches;
 * each subcommand parses its own options and returns its exit code
 * (0 ok, 1 runtime failure, 2 usage or config error, 3 partial).
 */
#include <sdconnect/sdconnect.h>

#include "cmds.h"
#include "localsd_main.h"
#include "serve.h"

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
    "  resolve     resolve a service to its endpoints\n"
    "  namespaces  create|describe|list|update|delete namespaces\n"
    "  services    create|describe|list|update|delete services\n"
    "  endpoints   create|describe|list|update|delete endpoints\n"
    "  fetch       send requests to a private target through the pool\n"
    "  probe       run uptime checks once against every endpoint\n"
    "  config      check the daemon's configuration file\n"
    "  serve       run checks on their periods; metrics and results\n"
    "  status      what the daemon's history says: up/down, uptime, failures\n"
    "  call        call a Dialogflow CX webhook as Dialogflow would; -v every layer\n"
    "  diagnose    say what is wrong on the path to a private webhook, and the fix\n"
    "\n"
    "Run 'sdconnect help COMMAND' (or 'sdconnect COMMAND --help') for a\n"
    "command's options.\n\n"
    "Exit status, the same for every command: 0 ok, 1 runtime error, 2 usage\n"
    "or configuration error, 3 the thing checked failed (a probe, a call, a\n"
    "fetch's HTTP status, a diagnose finding, a check shown down).\n";

/* `global` commands use libsdconnect and need sdc_global_init(); the local
 * server sets gRPC up itself (it must block signals first). */
static const struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  int global;
} commands[] = {
    {"sd-server", sdc_localsd_main, 0},
    {"resolve", cmd_resolve, 1},
    {"namespaces", cmd_namespaces, 1},
    {"services", cmd_services, 1},
    {"endpoints", cmd_endpoints, 1},
    {"fetch", cmd_fetch, 1},
    {"probe", cmd_probe, 1},
    {"config", cmd_config, 1},
    {"status", cmd_status, 1},
    {"call", cmd_call, 1},
    {"diagnose", cmd_diagnose, 1},
    {"serve", sdc_daemon_serve, 0}, /* blocks signals before threads start */
};

int main(int argc, char **argv)
{
  if(argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  if(!strcmp(argv[1], "help") && argc == 3) { /* sdconnect help CMD: CMD --help */
    static char help_flag[] = "--help";
    char *args[] = {argv[2], help_flag, NULL};
    for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
      if(!strcmp(argv[2], commands[i].name))
        return commands[i].run(2, args); /* prints and returns before any setup */
    fprintf(stderr, "sdconnect help: unknown command '%s'\nhint: run 'sdconnect help' "
            "for the list of commands\n", argv[2]);
    return 2;
  }
  if(!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
     !strcmp(argv[1], "help")) {
    if(argc > 3) {
      fprintf(stderr, "sdconnect help: give one command\n");
      return 2;
    }
    fputs(usage, stdout);
    return 0;
  }
  if(!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    printf("sdconnect %s\n", sdc_version());
    return 0;
  }
  for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if(!strcmp(argv[1], commands[i].name)) {
      int rc;
      if(!commands[i].global)
        return commands[i].run(argc - 1, argv + 1);
      if(sdc_global_init(NULL)) {
        fprintf(stderr, "sdconnect: cannot initialise the library\n");
        return 1;
      }
      rc = commands[i].run(argc - 1, argv + 1);
      sdc_global_cleanup();
      return rc;
    }
  fprintf(stderr, "sdconnect: unknown command '%s'\nhint: run 'sdconnect "
          "--help' for the list of commands\n", argv[1]);
  return 2;
}
