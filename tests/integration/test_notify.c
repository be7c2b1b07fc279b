/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: `sdconnect serve` and `sdconnect sd-server` under a service
 * manager, played by this test: it binds the $NOTIFY_SOCKET datagram socket
 * systemd would, starts the real program with $WATCHDOG_USEC, and reads
 * what it is told: READY=1 once serving, WATCHDOG=1 pings while the loop
 * turns, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at SIGTERM.
 */
#define _DEFAULT_SOURCE
#include "proc.h"
#include "run_all.h"

#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[64];
static int sock = -1;
static char sock_path[108];

static void setup(void)
{
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  snprintf(sock_path, sizeof(sock_path), "%s", tproc_path(dir, "notify"));
  snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
  sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(sock, 0);
  ck_assert_int_eq(bind(sock, (struct sockaddr *)&a, sizeof(a)), 0);
  setenv("NOTIFY_SOCKET", sock_path, 1);
  setenv("WATCHDOG_USEC", "400000", 1); /* a ping every 200 ms */
  unsetenv("WATCHDOG_PID");
}

static void teardown(void)
{
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  close(sock);
  tproc_rmdir(dir);
}

/* The next message within `ms`, or "" when none came. */
static const char *next_message(int ms)
{
  static char buf[512];
  struct pollfd p = {.fd = sock, .events = POLLIN};
  ssize_t n;
  buf[0] = '\0';
  if(poll(&p, 1, ms) == 1 && (n = recv(sock, buf, sizeof(buf) - 1, 0)) >= 0)
    buf[n] = '\0';
  return buf;
}

/* Read messages until one starts with `want` (pings in between are
 * counted in *pings when given); fails after 30 messages or 10 s of quiet. */
static void expect(const char *want, unsigned *pings)
{
  for(int i = 0; i < 30; i++) {
    const char *m = next_message(10000);
    ck_assert_msg(m[0], "no '%s' from the service within 10 s", want);
    if(!strncmp(m, want, strlen(want)))
      return;
    ck_assert_msg(!strcmp(m, "WATCHDOG=1"), "'%s' while waiting for '%s'", m, want);
    if(pings)
      (*pings)++;
  }
  ck_abort_msg("30 messages without '%s'", want);
}

START_TEST(serve_is_ready_pings_its_watchdog_reloads_and_stops)
{
  struct tproc d = {0};
  char cfg[128];
  unsigned pings = 0;
  FILE *f;

  snprintf(cfg, sizeof(cfg), "%s", tproc_path(dir, "sdconnect.yaml"));
  f = fopen(cfg, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "local: {listen: 127.0.0.1:0, memory: true}\n"
             "admin: {listen: 127.0.0.1:0}\n"
             "stateDir: %s\n", dir);
  fclose(f);
  {
    const char *argv[] = {tproc_sdconnect(), "serve", "--config", cfg, NULL};
    ck_assert_msg(tproc_start(&d, argv, true) == 0, "%s", d.log);
  }
  expect("READY=1\nSTATUS=serving 0 checks, 0 webhooks", NULL);
  expect("WATCHDOG=1", NULL);
  expect("WATCHDOG=1", NULL);
  kill(d.pid, SIGHUP);
  expect("RELOADING=1", &pings);
  expect("READY=1", &pings);
  kill(d.pid, SIGTERM);
  expect("STOPPING=1", &pings);
  ck_assert_int_eq(tproc_stop(&d, 15000), 0);
  ck_assert(tproc_log_has(&d, "msg=reloaded"));
  tproc_rmdir(d.dir);
}
END_TEST

START_TEST(sd_server_is_ready_pings_and_stops)
{
  struct tproc s = {0};
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", "127.0.0.1:0",
                        NULL};
  ck_assert_msg(tproc_start(&s, argv, true) == 0, "%s", s.log);
  expect("READY=1\nSTATUS=serving on port ", NULL);
  expect("WATCHDOG=1", NULL);
  expect("WATCHDOG=1", NULL);
  kill(s.pid, SIGTERM);
  expect("STOPPING=1", NULL);
  ck_assert_int_eq(tproc_stop(&s, 15000), 0);
  tproc_rmdir(s.dir);
}
END_TEST

START_TEST(a_watchdog_meant_for_another_process_is_not_pinged)
{
  struct tproc s = {0};
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", "127.0.0.1:0",
                        NULL};
  setenv("WATCHDOG_PID", "1", 1); /* systemd names the main PID; this is not it */
  ck_assert_msg(tproc_start(&s, argv, true) == 0, "%s", s.log);
  expect("READY=1", NULL);
  ck_assert_str_eq(next_message(1000), ""); /* five intervals: no ping */
  ck_assert_int_eq(tproc_stop(&s, 15000), 0);
  ck_assert_str_eq(next_message(2000), "STOPPING=1");
  tproc_rmdir(s.dir);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("notify");
  TCase *tc = tcase_create("notify");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, serve_is_ready_pings_its_watchdog_reloads_and_stops);
  tcase_add_test(tc, sd_server_is_ready_pings_and_stops);
  tcase_add_test(tc, a_watchdog_meant_for_another_process_is_not_pinged);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
