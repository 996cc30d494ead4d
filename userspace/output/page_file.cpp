#include "page_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tcpscope {

bool prepare_page_target(const std::string& path, bool directory, std::string* error) {
    struct stat st {};
    if (directory) {
        if (stat(path.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                *error = path + ": not a directory (with --all, --html takes a directory)";
                return false;
            }
        } else if (mkdir(path.c_str(), 0755) != 0) {
            *error = path + ": cannot create the directory: " + std::strerror(errno);
            return false;
        }
        if (access(path.c_str(), W_OK) != 0) {
            *error = path + ": " + std::strerror(errno);
            return false;
        }
        return true;
    }
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        *error = path + ": is a directory (give a file name)";
        return false;
    }
    std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    if (dir.empty()) dir = "/";
    if (access(dir.c_str(), W_OK) != 0) {
        *error = dir + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

bool write_page(const std::string& path, const std::string& text, std::string* error) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) {
        *error = path + ": " + std::strerror(errno);
        return false;
    }
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    int saved = errno;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) *error = path + ": " + std::strerror(saved ? saved : errno);
    return ok;
}

}  // namespace tcpscope
