/* Counts the SIGINTs it gets. Writes "ready" to FILE once its handler is in
 * place; after the first SIGINT it waits one more second (a second copy,
 * forwarded by a wrapper, would arrive within it), then writes the count to
 * FILE and exits 0 (tests/exec/exec_terminal_test.py). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t count;

static void on_int(int sig) {
    (void)sig;
    count++;
}

static void write_file(const char* path, const char* text) {
    FILE* f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: sigint_counter FILE\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_int;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    write_file(argv[1], "ready\n");
    for (int i = 0; i < 600 && count == 0; i++) usleep(100000);
    /* Interrupted sleeps are restarted for what is left: one second. */
    struct timespec left = {1, 0};
    while (nanosleep(&left, &left) != 0) {
    }
    char text[32];
    snprintf(text, sizeof(text), "%d\n", (int)count);
    write_file(argv[1], text);
    return 0;
}
