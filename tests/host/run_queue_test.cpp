// core/run_queue.hpp: placement bookkeeping and the round-robin choice the
// scheduler makes among a CPU's runnable vCPUs.
#include "core/run_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace setwise::core {
namespace {

struct Item {
    int id = 0;
    bool runnable = true;
};

using Queue = RunQueue<Item, 4>;

auto is_runnable = [](const Item& i) { return i.runnable; };

std::vector<int> picks(Queue& q, int n) {
    std::vector<int> out;
    for (int k = 0; k < n; ++k) {
        Item* i = q.pick(is_runnable);
        out.push_back(i == nullptr ? -1 : i->id);
    }
    return out;
}

TEST(RunQueue, EmptyPicksNothing) {
    Queue q;
    EXPECT_EQ(q.pick(is_runnable), nullptr);
    EXPECT_EQ(q.count(is_runnable), 0u);
}

TEST(RunQueue, AddRefusesDuplicatesNullAndOverflow) {
    Queue q;
    Item a{0}, b{1}, c{2}, d{3}, e{4};
    EXPECT_TRUE(q.add(&a));
    EXPECT_FALSE(q.add(&a));
    EXPECT_FALSE(q.add(nullptr));
    EXPECT_TRUE(q.add(&b));
    EXPECT_TRUE(q.add(&c));
    EXPECT_TRUE(q.add(&d));
    EXPECT_FALSE(q.add(&e));
    EXPECT_EQ(q.size(), 4u);
}

TEST(RunQueue, RoundRobinGivesEveryRunnableItsTurn) {
    Queue q;
    Item a{0}, b{1}, c{2};
    q.add(&a);
    q.add(&b);
    q.add(&c);
    EXPECT_EQ(picks(q, 7), (std::vector<int>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(RunQueue, SkipsWhatCannotRun) {
    Queue q;
    Item a{0}, b{1, false}, c{2};
    q.add(&a);
    q.add(&b);
    q.add(&c);
    EXPECT_EQ(picks(q, 4), (std::vector<int>{0, 2, 0, 2}));
    EXPECT_EQ(q.count(is_runnable), 2u);
    b.runnable = true; // woken: it takes its place in the order (c was last, so a, then b)
    EXPECT_EQ(picks(q, 3), (std::vector<int>{0, 1, 2}));
}

TEST(RunQueue, AloneItKeepsTheCpu) {
    Queue q;
    Item a{0}, b{1, false};
    q.add(&a);
    q.add(&b);
    EXPECT_EQ(picks(q, 3), (std::vector<int>{0, 0, 0}));
    a.runnable = false;
    EXPECT_EQ(q.pick(is_runnable), nullptr);
}

TEST(RunQueue, RemoveKeepsTheTurnOrder) {
    Queue q;
    Item a{0}, b{1}, c{2}, d{3};
    q.add(&a);
    q.add(&b);
    q.add(&c);
    q.add(&d);
    EXPECT_EQ(picks(q, 2), (std::vector<int>{0, 1})); // b was last
    EXPECT_TRUE(q.remove(&b));                        // the one last picked goes
    EXPECT_FALSE(q.remove(&b));
    EXPECT_FALSE(q.contains(&b));
    EXPECT_EQ(picks(q, 4), (std::vector<int>{2, 3, 0, 2}));
    EXPECT_TRUE(q.remove(&a)); // before the cursor (c last)
    EXPECT_EQ(picks(q, 3), (std::vector<int>{3, 2, 3}));
    EXPECT_TRUE(q.remove(&d)); // the last entry, last picked
    EXPECT_EQ(picks(q, 2), (std::vector<int>{2, 2}));
    EXPECT_TRUE(q.remove(&c));
    EXPECT_EQ(q.size(), 0u);
    EXPECT_EQ(q.pick(is_runnable), nullptr);
    EXPECT_TRUE(q.add(&a));
    EXPECT_EQ(picks(q, 2), (std::vector<int>{0, 0}));
}

} // namespace
} // namespace setwise::core
