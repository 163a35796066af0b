// core/rate_limit: the token bucket's arithmetic. Time is in ticks of a
// counter whose frequency each test picks, so refills are exact.
#include "core/rate_limit.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <tuple>

namespace setwise::core {
namespace {

constexpr u64 kMax = std::numeric_limits<u64>::max();

TEST(Saturating, AddAndMultiply) {
    EXPECT_EQ(saturating_add(2, 3), 5u);
    EXPECT_EQ(saturating_add(kMax - 1, 1), kMax);
    EXPECT_EQ(saturating_add(kMax - 1, 2), kMax);
    EXPECT_EQ(saturating_add(kMax, kMax), kMax);
    EXPECT_EQ(saturating_mul(6, 7), 42u);
    EXPECT_EQ(saturating_mul(u64{1} << 32, u64{1} << 31), u64{1} << 63);
    EXPECT_EQ(saturating_mul(u64{1} << 32, u64{1} << 32), kMax);
    EXPECT_EQ(saturating_mul(kMax, 2), kMax);
    EXPECT_EQ(saturating_mul(kMax, 0), 0u);
}

TEST(TokenBucket, DefaultIsUnlimited) {
    TokenBucket b;
    EXPECT_TRUE(b.unlimited());
    EXPECT_EQ(b.take(0, 1'000'000), 1'000'000u);
    EXPECT_EQ(b.take(0, kMax), kMax);
    EXPECT_EQ(b.available(0), kMax);
}

TEST(TokenBucket, ZeroRateBurstOrFrequencyIsUnlimited) {
    for (auto [rate, burst, freq] : {std::tuple<u64, u64, u64>{0, 100, 1000}, {10, 0, 1000}, {10, 100, 0}}) {
        TokenBucket b;
        b.configure(rate, burst, freq, 5);
        EXPECT_TRUE(b.unlimited()) << rate << " " << burst << " " << freq;
        EXPECT_EQ(b.take(5, 1'000'000), 1'000'000u);
    }
    // Back to unlimited after having been limited.
    TokenBucket b;
    b.configure(10, 100, 1000, 0);
    EXPECT_FALSE(b.unlimited());
    b.configure(0, 100, 1000, 0);
    EXPECT_TRUE(b.unlimited());
    EXPECT_EQ(b.take(0, 500), 500u);
}

TEST(TokenBucket, StartsFullAndGrantsTheBurstOnly) {
    TokenBucket b;
    b.configure(10, 100, 1000, 0);
    EXPECT_EQ(b.rate(), 10u);
    EXPECT_EQ(b.burst(), 100u);
    EXPECT_EQ(b.available(0), 100u);
    EXPECT_EQ(b.take(0, 60), 60u);
    EXPECT_EQ(b.take(0, 60), 40u); // partly granted
    EXPECT_EQ(b.take(0, 1), 0u);
    EXPECT_EQ(b.available(0), 0u);
}

TEST(TokenBucket, RefillsAtTheRate) {
    // 10 tokens a second, 1000 ticks a second: one token per 100 ticks.
    TokenBucket b;
    b.configure(10, 100, 1000, 0);
    ASSERT_EQ(b.take(0, 100), 100u);
    EXPECT_EQ(b.take(99, 1), 0u);
    EXPECT_EQ(b.take(100, 2), 1u);
    // Fractions of a token are kept, not lost at each call: 150 ticks in
    // three calls of 50 make 1.5 tokens.
    EXPECT_EQ(b.take(150, 1), 0u);
    EXPECT_EQ(b.take(200, 1), 1u);
    EXPECT_EQ(b.take(250, 1), 0u);
    EXPECT_EQ(b.take(299, 1), 0u);
    EXPECT_EQ(b.take(300, 1), 1u);
    // A second: ten tokens.
    EXPECT_EQ(b.take(1300, 100), 10u);
}

TEST(TokenBucket, FractionalTicksPerToken) {
    // 3 tokens a second at 10 ticks a second: 3.33 ticks a token, no
    // rounding drift over many refills.
    TokenBucket b;
    b.configure(3, 3, 10, 0);
    ASSERT_EQ(b.take(0, 3), 3u);
    u64 got = 0;
    for (u64 t = 1; t <= 1000; ++t) got += b.take(t, 1);
    EXPECT_EQ(got, 300u); // 100 s at 3 a second
}

TEST(TokenBucket, CappedAtTheBurst) {
    TokenBucket b;
    b.configure(10, 100, 1000, 0);
    ASSERT_EQ(b.take(0, 30), 30u);
    EXPECT_EQ(b.available(1'000'000), 100u);
    EXPECT_EQ(b.take(1'000'000, 1000), 100u);
}

TEST(TokenBucket, HugeGapsSaturate) {
    // Realistic figures: 1 GHz counter, 8 KiB/s, 64 KiB burst.
    TokenBucket b;
    b.configure(8192, 65536, 1'000'000'000, 0);
    ASSERT_EQ(b.take(0, 65536), 65536u);
    // A gap whose product with the rate overflows 64 bits.
    EXPECT_EQ(b.available(kMax), 65536u);
    EXPECT_EQ(b.take(kMax, kMax), 65536u);
    EXPECT_EQ(b.take(kMax, 1), 0u);

    // A rate and burst at the limits of u64.
    TokenBucket big;
    big.configure(kMax, kMax, kMax, 0);
    EXPECT_FALSE(big.unlimited());
    EXPECT_GE(big.take(1, kMax), 1u);
    EXPECT_GE(big.available(kMax), 1u);
}

TEST(TokenBucket, BackwardsTimeAddsNothingAndReanchors) {
    TokenBucket b;
    b.configure(10, 100, 1000, 10'000);
    ASSERT_EQ(b.take(10'000, 100), 100u);
    // The counter jumps back (a reset): no tokens, and no underflow into a
    // huge gap.
    EXPECT_EQ(b.take(500, 1), 0u);
    EXPECT_EQ(b.available(0), 0u);
    // Refilling resumes from the earlier time instead of waiting for the
    // counter to reach 10'000 again.
    EXPECT_EQ(b.take(100, 1), 1u);
    EXPECT_EQ(b.take(300, 5), 2u);
}

TEST(TokenBucket, ConfigureRefills) {
    TokenBucket b;
    b.configure(10, 100, 1000, 0);
    ASSERT_EQ(b.take(0, 100), 100u);
    b.configure(10, 50, 1000, 0);
    EXPECT_EQ(b.available(0), 50u);
}

} // namespace
} // namespace setwise::core
