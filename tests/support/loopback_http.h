// An HTTP server for tests that need something real to talk to (webhook receivers, ACME
// challenge responders): `router` on 127.0.0.1, one thread. Link cartorio_http.
#pragma once

#include "http/server.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace cartorio::testing {

// Started on `port` (0: a free one; Server::port() says which). A start failure is a test
// failure and gives nullptr.
inline std::unique_ptr<http::Server> start_loopback_server(http::Router router, int port = 0) {
  http::ServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(port);
  o.threads = 1;
  auto server = std::make_unique<http::Server>(o, std::move(router));
  auto started = server->start();
  EXPECT_TRUE(started) << started.error().to_string();
  if (!started) return nullptr;
  return server;
}

}  // namespace cartorio::testing
