#include <finch/detail/manager/completion_guard.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <thread>
#include <vector>

using finch::detail::CompletionGuard;

TEST_CASE("completion guard: none without a handler")
{
    boost::asio::io_context context;
    CHECK(CompletionGuard::make(context.get_executor(), {}) == nullptr);
}

TEST_CASE("completion guard: the handler runs once, on the executor, after the last release")
{
    boost::asio::io_context context;
    int runs = 0;
    auto guard = CompletionGuard::make(context.get_executor(), [&runs] { ++runs; });
    guard->hold();
    guard->hold();
    guard->release();  // make()'s own hold
    guard->release();
    context.poll();
    CHECK(runs == 0);

    guard->release();
    CHECK(runs == 0);  // never inline: the last release may come under a lock
    guard.reset();  // the handler does not need the guard any more
    context.run();
    CHECK(runs == 1);
}

TEST_CASE("completion guard: holds given back on several threads complete it once")
{
    boost::asio::io_context context;
    int runs = 0;
    auto guard = CompletionGuard::make(context.get_executor(), [&runs] { ++runs; });
    constexpr int holders = 8;
    for (int i = 0; i < holders; ++i)
        guard->hold();
    guard->release();
    std::vector<std::thread> threads;
    for (int i = 0; i < holders; ++i)
        threads.emplace_back([guard] { guard->release(); });
    for (auto& thread : threads)
        thread.join();
    guard.reset();
    context.run();
    CHECK(runs == 1);
}

TEST_CASE("completion guard: destroyed before its last release, it drops its handler without running it")
{
    boost::asio::io_context context;
    bool ran = false;
    auto captured = std::make_shared<int>(0);
    const std::weak_ptr<int> capture = captured;
    auto guard = CompletionGuard::make(context.get_executor(), [&ran, captured = std::move(captured)] { ran = true; });
    guard->hold();  // never given back, like a connection destroyed before it ended
    guard->release();
    guard.reset();
    context.run();  // returns: the guard holds no work once it is gone
    CHECK_FALSE(ran);
    CHECK(capture.expired());
}

TEST_CASE("completion guard: an io_context destroyed before the last release destroys the handler unrun")
{
    auto context = std::make_unique<boost::asio::io_context>();
    bool ran = false;
    auto captured = std::make_shared<int>(0);
    const std::weak_ptr<int> capture = captured;
    auto guard = CompletionGuard::make(context->get_executor(), [&ran, captured = std::move(captured)] { ran = true; });
    guard->hold();
    guard->release();
    // A holder destroyed with the io_context lets go of the guard during its
    // destruction, as a connection would, without releasing.
    auto holder = std::make_shared<std::shared_ptr<CompletionGuard>>(std::move(guard));
    boost::asio::post(*context, [holder] {});
    holder.reset();
    context.reset();
    CHECK_FALSE(ran);
    CHECK(capture.expired());
}
