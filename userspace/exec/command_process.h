// The command `tcpscope exec` runs: started gated (forked, then waiting on
// a pipe) so that tracing is attached before its first instruction, run as
// the chosen user, its whole process tree reaped (we are its subreaper),
// signals forwarded, and nothing left running on any way out.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tcpscope {

struct RunAs {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;  // for the supplementary groups; empty: none
    // From the user's passwd entry, for the command's environment; empty
    // when the uid has none.
    std::string home;
    std::string shell;
};

// --user: a name or a number; empty: SUDO_UID/SUDO_GID when set, else
// root. False with *error when the user does not exist.
//
// When the command runs as another user than tcpscope's, its HOME, USER,
// LOGNAME and SHELL are that user's (from the passwd entry), as `sudo -u`
// and `su` set them: under sudo, tcpscope's own HOME is root's.
bool resolve_run_as(const std::string& user, RunAs* out, std::string* error);

class CommandProcess {
public:
    ~CommandProcess();  // kills and reaps whatever of the tree is left
    CommandProcess(const CommandProcess&) = delete;
    CommandProcess& operator=(const CommandProcess&) = delete;
    CommandProcess() = default;

    // Forks the child, which waits until release(). False with *error.
    bool start(const std::vector<std::string>& argv, const RunAs& as, std::string* error);
    pid_t pid() const { return pid_; }
    // Lets the child go on to exec the command.
    void release();

    // Reaps what has ended (the command and its orphans alike); true once
    // no process of the tree is left.
    bool reap();
    // Sends sig to the command (once per call).
    void forward(int sig);
    // SIGKILL to every process of the tree still there.
    void kill_tree();

    // The command's status: its exit code, or 128+N when signal N killed it.
    int exit_status() const;
    // Why the command never ran (tcpscope exec says this alone, and
    // exits 125, 126 or 127 for it): empty when it ran. Known once reap()
    // has seen it end.
    const std::string& failure() const { return failure_; }
    int failure_status() const { return failure_status_; }
    int term_signal() const { return term_signal_; }
    int exit_code() const { return exit_code_; }

private:
    void read_failure();  // once the command has ended

    pid_t pid_ = -1;
    std::string program_;  // argv[0], for the failure's text
    int gate_ = -1;  // write end; the child waits for its byte
    // Read end of a close-on-exec pipe: a successful execvp closes it
    // empty, a failure writes its stage and errno there first.
    int report_ = -1;
    std::string failure_;
    int failure_status_ = 0;
    bool done_ = false;           // no process of the tree is left
    bool command_reaped_ = false; // the command itself is gone (its pid is free)
    int exit_code_ = -1;
    int term_signal_ = 0;
};

}  // namespace tcpscope
