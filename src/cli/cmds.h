/* SPDX-License-Identifier: Apache-2.0 */
/* The subcommands main.c dispatches to; each returns its exit code. */
#ifndef SDC_CLI_CMDS_H
#define SDC_CLI_CMDS_H

int cmd_resolve(int argc, char **argv);
int cmd_namespaces(int argc, char **argv);
int cmd_services(int argc, char **argv);
int cmd_endpoints(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);

#endif
