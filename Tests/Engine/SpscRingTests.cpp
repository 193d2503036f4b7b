#include "SpscRing.h"

#include <catch2/catch.hpp>

#include <thread>

TEST_CASE ("SampleRing copies frames across the wrap-around", "[engine][fifo]")
{
    pg::SampleRing ring;
    ring.allocate (2, 16);
    REQUIRE (ring.getCapacity() == 16);

    std::vector<float> a (10), b (10);
    float* src[] = { a.data(), b.data() };
    uint64_t w = 0, r = 0;
    for (int round = 0; round < 20; ++round)
    {
        for (int i = 0; i < 10; ++i)
        {
            a[static_cast<size_t> (i)] = static_cast<float> (round * 10 + i);
            b[static_cast<size_t> (i)] = -a[static_cast<size_t> (i)];
        }
        REQUIRE (ring.freeForProducer() >= 10);
        ring.writeFrames (w, src, 2, 0, 10);
        w += 10;
        ring.publishWrite (w);

        std::vector<float> x (10), y (10);
        float* dst[] = { x.data(), y.data() };
        REQUIRE (ring.publishedWritePosition() - r == 10);
        ring.readFrames (r, dst, 2, 0, 10);
        for (size_t i = 0; i < 10; ++i)
        {
            REQUIRE (x[i] == static_cast<float> (round * 10) + static_cast<float> (i));
            REQUIRE (y[i] == -x[i]);
            REQUIRE (ring.sample (0, r + i) == x[i]);
        }
        r += 10;
        ring.publishRead (r);
    }
}

TEST_CASE ("SampleRing reports no space until the consumer releases", "[engine][fifo]")
{
    pg::SampleRing ring;
    ring.allocate (1, 16);
    std::vector<float> a (16, 1.0f);
    float* src[] = { a.data() };
    ring.writeFrames (0, src, 1, 0, 16);
    ring.publishWrite (16);
    CHECK (ring.freeForProducer() == 0);
    ring.publishRead (3);
    CHECK (ring.freeForProducer() == 3);
}

TEST_CASE ("SampleRing passes a million frames between two threads in order", "[engine][fifo]")
{
    pg::SampleRing ring;
    ring.allocate (1, 256);
    constexpr uint64_t total = 1'000'000;
    bool ordered = true;

    std::thread consumer ([&] {
        uint64_t r = 0;
        std::vector<float> buf (64);
        float* dst[] = { buf.data() };
        while (r < total)
        {
            const auto w = ring.publishedWritePosition();
            const auto n = std::min<uint64_t> (w - r, 64);
            if (n == 0)
                continue;
            ring.readFrames (r, dst, 1, 0, n);
            for (uint64_t i = 0; i < n; ++i)
                ordered = ordered && buf[i] == static_cast<float> ((r + i) % 1000003);
            r += n;
            ring.publishRead (r);
        }
    });

    uint64_t w = 0;
    std::vector<float> buf (37);
    float* src[] = { buf.data() };
    while (w < total)
    {
        const auto n = std::min<uint64_t> ({ 37, total - w, static_cast<uint64_t> (std::max<int64_t> (ring.freeForProducer(), 0)) });
        for (uint64_t i = 0; i < n; ++i)
            buf[i] = static_cast<float> ((w + i) % 1000003);
        ring.writeFrames (w, src, 1, 0, n);
        w += n;
        ring.publishWrite (w);
    }
    consumer.join();
    CHECK (ordered);
}

TEST_CASE ("SpscQueue is bounded and first-in first-out", "[engine][fifo]")
{
    pg::SpscQueue<int> q;
    q.allocate (4);
    for (int i = 0; i < 4; ++i)
        REQUIRE (q.push (i));
    CHECK_FALSE (q.push (99));
    int v = -1;
    for (int i = 0; i < 4; ++i)
    {
        REQUIRE (q.pop (v));
        CHECK (v == i);
    }
    CHECK_FALSE (q.pop (v));
}
