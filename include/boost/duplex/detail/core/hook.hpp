//
// Copyright (c) 2026 The Boost.Duplex developers
//
// Distributed under the Boost Software License, Version 1.0. (See accompanying
// file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
//

#ifndef BOOST_DUPLEX_DETAIL_CORE_HOOK_HPP
#define BOOST_DUPLEX_DETAIL_CORE_HOOK_HPP

#include <utility>

namespace boost::duplex::detail {

template <auto Member>
struct hook_to_t {};

// Names the member function a hook calls: `hook_to<&my_type::on_event>`.
template <auto Member>
inline constexpr hook_to_t<Member> hook_to{};

template <class T>
struct member_owner;

template <class C, class R, class... A>
struct member_owner<R (C::*)(A...) noexcept> {
    using type = C;
};

// The library's one way of calling an object whose type the caller does not
// know: a client's waiter (which the core completes), the Asio run (which its
// channel drives) and a running coroutine handler (to which a cancellation is
// forwarded) each derive from a hook and name the member it calls. One
// indirect call through a plain function pointer: no allocation, no virtual
// table, no destruction through the base (the owner destroys the object by
// its own type), and every call `noexcept`, since the core calls hooks on
// paths that cannot fail.
template <class... Args>
class hook {
public:
    void call(Args... args) noexcept { fn_(*this, std::forward<Args>(args)...); }

protected:
    template <auto Member>
    explicit hook(hook_to_t<Member>) noexcept : fn_(&trampoline<Member>)
    {
    }

    hook(const hook&) = default;
    hook& operator=(const hook&) = default;
    ~hook() = default;

private:
    using fn_type = void (*)(hook&, Args...) noexcept;

    template <auto Member>
    static void trampoline(hook& h, Args... args) noexcept
    {
        using owner = typename member_owner<decltype(Member)>::type;
        (static_cast<owner&>(h).*Member)(std::forward<Args>(args)...);
    }

    fn_type fn_;
};

}  // namespace boost::duplex::detail

#endif
