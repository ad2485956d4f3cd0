/*
 * The output keeper: the one process of the small container that holds a job's /output volume
 * mounted while the job runs and until the agent has read the files back (runtime/sandbox/
 * output-volume.ts). It does nothing but wait for SIGTERM or SIGINT, then exits 0. As PID 1 a
 * signal with no handler would be ignored, so the signals are blocked and waited for.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stddef.h>

int main(void) {
  sigset_t set;
  int sig = 0;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return 1;
  for (;;) {
    if (sigwait(&set, &sig) == 0) return 0;
  }
}
