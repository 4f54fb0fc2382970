//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CLIENT_REF_HPP
#define BOOST_DUPLEX_DETAIL_CLIENT_REF_HPP

#include <boost/duplex/detail/config.hpp>

#include <memory>
#include <utility>

namespace boost::duplex::detail {

// A client's share of its channel. The channel counts the copies, because
// the responder's run ends by itself once the last one is gone (and nothing
// is pending). Channel is either backend's channel: it has `core` and
// `apply(effects)`.
template <class Channel>
class client_ref {
public:
    explicit client_ref(std::shared_ptr<Channel> ch) noexcept : ch_(std::move(ch)) { ch_->core.attach_client(); }

    client_ref(const client_ref& other) noexcept : ch_(other.ch_)
    {
        if (ch_)
            ch_->core.attach_client();
    }

    client_ref(client_ref&& other) noexcept = default;

    client_ref& operator=(const client_ref& other) noexcept
    {
        client_ref tmp(other);
        return *this = std::move(tmp);
    }

    client_ref& operator=(client_ref&& other) noexcept
    {
        if (this != &other) {
            client_ref old(std::move(*this));
            ch_ = std::move(other.ch_);
        }
        return *this;
    }

    ~client_ref()
    {
        if (ch_)
            ch_->apply(ch_->core.detach_client());
    }

    // Precondition: not moved from.
    Channel& operator*() const noexcept
    {
        BOOST_DUPLEX_ASSERT(ch_);
        return *ch_;
    }

    Channel* operator->() const noexcept
    {
        BOOST_DUPLEX_ASSERT(ch_);
        return ch_.get();
    }

    const std::shared_ptr<Channel>& shared() const noexcept
    {
        BOOST_DUPLEX_ASSERT(ch_);
        return ch_;
    }

private:
    std::shared_ptr<Channel> ch_;
};

}  // namespace boost::duplex::detail

#endif
