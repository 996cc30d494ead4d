// The HTTP side of `tcpscope metrics` (cpp-httplib): / is a landing page,
// /metrics the body a callback builds at each scrape. It knows nothing of
// TCP or BPF.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "exposition.h"
#include "listen_address.h"

namespace httplib {
class Server;
}

namespace tcpscope {

class MetricsServer {
public:
    // The /metrics body in the format the scraper asked for (its Accept header).
    using Scrape = std::function<std::string(ExpositionFormat)>;

    explicit MetricsServer(Scrape scrape);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Binds and listens (connections wait in the backlog until serve()).
    // False with *error in words, e.g. "address already in use".
    bool bind(const ListenAddress& address, std::string* error);
    // Accepts and answers on a thread of its own until stop().
    void serve();
    // Stops accepting, lets requests in flight finish, joins the thread.
    void stop();

private:
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
};

}  // namespace tcpscope
