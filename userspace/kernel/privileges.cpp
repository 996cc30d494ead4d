#include "privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tcpscope {

bool drop_privileges(const std::string& user, std::string* error) {
    if (geteuid() != 0) return true;
    struct passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr) {
        *error = "--user: no such user '" + user + "'";
        return false;
    }
    // Order matters: groups and gid while we still may change them.
    if (setgroups(0, nullptr) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
        setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
        *error = "cannot switch to user '" + user + "': " + std::strerror(errno);
        return false;
    }
    // A uid change from 0 clears the permitted and effective capability
    // sets (no SECBIT_KEEP_CAPS is set); make sure it really did.
    if (setresuid(0, 0, 0) == 0) {
        *error = "dropping root failed: root could be regained";
        return false;
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return true;
}

}  // namespace tcpscope
