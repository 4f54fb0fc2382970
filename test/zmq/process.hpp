//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

// A serving process (zmq_test_server) started by a test: posix_spawn, its
// stdout read for the endpoint it bound, and kill -9 or SIGTERM.

#ifndef BOOST_DUPLEX_TEST_ZMQ_PROCESS_HPP
#define BOOST_DUPLEX_TEST_ZMQ_PROCESS_HPP

#include <cerrno>
#include <chrono>
#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace duplex_test {

class server_process {
public:
    // Starts zmq_test_server with `args` and waits (at most 10 s) for it to
    // say which endpoint it bound.
    explicit server_process(std::vector<std::string> args)
    {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        args.insert(args.begin(), DUPLEX_ZMQ_TEST_SERVER);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, DUPLEX_ZMQ_TEST_SERVER, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            throw std::runtime_error("posix_spawn " DUPLEX_ZMQ_TEST_SERVER);
        }
        out_ = fds[0];
        const std::string line = read_line(std::chrono::seconds(10));
        const std::string prefix = "listening ";
        if (line.rfind(prefix, 0) != 0) {
            kill(SIGKILL);
            throw std::runtime_error("zmq_test_server did not start: \"" + line + "\"");
        }
        endpoint_ = line.substr(prefix.size());
    }

    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    ~server_process()
    {
        kill(SIGKILL);
        if (out_ >= 0)
            ::close(out_);
    }

    const std::string& endpoint() const { return endpoint_; }
    pid_t pid() const { return pid_; }

    // Sends `sig` and reaps the process; its exit status, or -1.
    int kill(int sig)
    {
        if (pid_ <= 0)
            return -1;
        ::kill(pid_, sig);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return status;
    }

private:
    std::string read_line(std::chrono::milliseconds limit)
    {
        std::string line;
        const auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return line;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                continue;
            char c;
            const auto n = ::read(out_, &c, 1);
            if (n <= 0 || c == '\n')
                return line;
            line.push_back(c);
        }
    }

    pid_t pid_ = -1;
    int out_ = -1;
    std::string endpoint_;
};

}  // namespace duplex_test

#endif
