// The readiness calls a scenario reports: poll, select, epoll_ctl and
// epoll_wait. What the application asked is the step's arg; what came back
// is info.ready, per socket, with the bits by name (userspace/events/
// readiness.h), so that the facts can compare the bits with the state the
// kernel's events put the socket in.
#include "steps.h"

#include "errors.h"
#include "readiness.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <string>
#include <vector>

namespace scen {

namespace {

Info ready_entry(int fd, uint32_t mask) {
    return Info{{"cookie", socket_cookie(fd)},
                {"events", tcpscope::readiness_names(mask)},
                {"mask", mask}};
}

// poll's own names for revents, as info.revents has always listed them.
Info revents_names(short revents) {
    Info names = Info::array();
    if (revents & POLLIN) names.push_back("POLLIN");
    if (revents & POLLPRI) names.push_back("POLLPRI");
    if (revents & POLLOUT) names.push_back("POLLOUT");
    if (revents & POLLERR) names.push_back("POLLERR");
    if (revents & POLLHUP) names.push_back("POLLHUP");
    if (revents & POLLNVAL) names.push_back("POLLNVAL");
    if (revents & POLLRDHUP) names.push_back("POLLRDHUP");
    return names;
}

std::string poll_events_text(short events) {
    std::string s;
    auto add = [&](short bit, const char* name) {
        if (events & bit) s += (s.empty() ? "" : "|") + std::string(name);
    };
    add(POLLIN, "POLLIN");
    add(POLLOUT, "POLLOUT");
    add(POLLRDHUP, "POLLRDHUP");
    return s.empty() ? "0" : s;
}

// "EPOLLIN|EPOLLET" for the call as C writes it.
std::string epoll_events_text(uint32_t events) {
    std::string names = tcpscope::readiness_names(events);
    std::string out;
    size_t i = 0;
    while (true) {
        size_t bar = names.find('|', i);
        out += (out.empty() ? "EPOLL" : "|EPOLL") + names.substr(i, bar == std::string::npos ? bar : bar - i);
        if (bar == std::string::npos) break;
        i = bar + 1;
    }
    return out;
}

std::string timeout_text(int timeout_ms) {
    return timeout_ms < 0 ? "-1" : std::to_string(timeout_ms) + " ms";
}

}  // namespace

Epoll epoll_instance(const std::string& name) {
    return Epoll{static_cast<int>(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")), name};
}

int Reporter::poll(int fd, short events, int timeout_ms) {
    SocketInfo before = socket_info(fd);
    pollfd p{fd, events, 0};
    uint64_t start = mono_ns();
    int ret = ::poll(&p, 1, timeout_ms);
    int err = ret < 0 ? errno : 0;
    uint64_t end = mono_ns();
    Info info = Info::object();
    if (ret >= 0) {
        info["revents"] = revents_names(p.revents);
        info["ready"] = Info::array();
        if (p.revents) info["ready"].push_back(ready_entry(fd, static_cast<uint16_t>(p.revents)));
    }
    std::string asked = poll_events_text(events);
    finish(fd, {StepOp::Poll, "poll(fd, " + asked + ")", asked}, ret, err, start, end, before,
           std::move(info));
    errno = err;
    return ret;
}

int Reporter::select_readable(int fd, int timeout_ms) {
    SocketInfo before = socket_info(fd);
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fd, &readable);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    uint64_t start = mono_ns();
    int ret = ::select(fd + 1, &readable, nullptr, nullptr, &tv);
    int err = ret < 0 ? errno : 0;
    uint64_t end = mono_ns();
    Info info = Info::object();
    if (ret >= 0) {
        info["ready"] = Info::array();
        if (FD_ISSET(fd, &readable)) info["ready"].push_back(ready_entry(fd, tcpscope::kReadyIn));
    }
    finish(fd, {StepOp::Select, "select(fd+1, {fd}, NULL, NULL, " + timeout_text(timeout_ms) + ")", "read"},
           ret, err, start, end, before, std::move(info));
    errno = err;
    return ret;
}

int Reporter::epoll_add(const Epoll& ep, int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    return static_cast<int>(call(
        fd,
        {StepOp::EpollCtl,
         "epoll_ctl(" + ep.name + ", EPOLL_CTL_ADD, fd, " + epoll_events_text(events) + ")",
         tcpscope::readiness_names(events)},
        [&] { return ::epoll_ctl(ep.fd, EPOLL_CTL_ADD, fd, &ev); }, Info{{"epoll", ep.name}}));
}

int Reporter::epoll_wait(const Epoll& ep, int max_events, int timeout_ms) {
    std::vector<epoll_event> events(static_cast<size_t>(max_events));
    uint64_t start = mono_ns();
    int ret = ::epoll_wait(ep.fd, events.data(), max_events, timeout_ms);
    int err = ret < 0 ? errno : 0;
    uint64_t end = mono_ns();
    Info info = {{"epoll", ep.name}, {"timeout_ms", timeout_ms}};
    // The step is about the socket that came back; with none (a timeout),
    // about no socket at all.
    int about = -1;
    if (ret >= 0) {
        info["ready"] = Info::array();
        for (int i = 0; i < ret; ++i) {
            info["ready"].push_back(ready_entry(events[i].data.fd, events[i].events));
            if (about < 0) about = events[i].data.fd;
        }
    }
    SocketInfo sock = socket_info(about);
    note({StepOp::EpollWait,
          "epoll_wait(" + ep.name + ", events, " + std::to_string(max_events) + ", " +
              timeout_text(timeout_ms) + ")",
          ep.name, max_events},
         ret, err, start, end, std::move(info), std::move(sock));
    errno = err;
    return ret;
}

}  // namespace scen
