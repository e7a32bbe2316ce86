#include "entrypoint/resource_watch.hpp"

#include <gtest/gtest.h>

namespace rustyolo::entrypoint {
namespace {

TEST(FullnessLatch, ReportsAFullTmpfsOncePerFilling) {
    FullnessLatch latch;
    EXPECT_FALSE(latch.update(1000, 500, 100, 50));
    EXPECT_TRUE(latch.update(1000, 0, 100, 50));    // no block left: writes get ENOSPC
    EXPECT_FALSE(latch.update(1000, 0, 100, 50));   // still the same filling
    EXPECT_FALSE(latch.update(1000, 50, 100, 50));  // 95% used: a writer at the edge, no new record
    EXPECT_FALSE(latch.update(1000, 0, 100, 50));   // full again before re-arming: no record
    EXPECT_FALSE(latch.update(1000, 200, 100, 50)); // 80% used: re-armed
    EXPECT_TRUE(latch.update(1000, 0, 100, 50));    // a new filling
}

TEST(FullnessLatch, NoInodeLeftIsFullToo) {
    FullnessLatch latch;
    EXPECT_TRUE(latch.update(1000, 900, 100, 0));
    // Twin: free inodes and blocks are not full.
    FullnessLatch other;
    EXPECT_FALSE(other.update(1000, 900, 100, 1));
}

TEST(FullnessLatch, AWriterAtTheInodeEdgeMakesOneRecord) {
    // Empty files use no blocks: creating and removing one file at the inode limit must not
    // re-arm the latch each time (one record per poll), only inodes well below the limit do.
    FullnessLatch latch;
    EXPECT_TRUE(latch.update(1000, 990, 100, 0));
    EXPECT_FALSE(latch.update(1000, 990, 100, 1));  // 99% of the inodes used: the same filling
    EXPECT_FALSE(latch.update(1000, 990, 100, 0));
    EXPECT_FALSE(latch.update(1000, 990, 100, 5));  // 95%
    EXPECT_FALSE(latch.update(1000, 990, 100, 20)); // 80%: re-armed
    EXPECT_TRUE(latch.update(1000, 990, 100, 0));   // a new filling
}

TEST(ScratchMounts, AreThePlansSizedTmpfsMounts) {
    Plan plan;
    plan.user.home = "/home/agent";
    EXPECT_TRUE(scratch_mounts(plan).empty());
    plan.resources.tmp_bytes = 1;
    plan.resources.home_bytes = 2;
    plan.resources.shm_bytes = 3;
    auto mounts = scratch_mounts(plan);
    ASSERT_EQ(mounts.size(), 3u);
    EXPECT_EQ(mounts[0].path, "/tmp");
    EXPECT_EQ(mounts[0].option, "--tmp-size");
    EXPECT_EQ(mounts[1].path, "/home/agent");
    EXPECT_EQ(mounts[1].size_bytes, 2);
    EXPECT_EQ(mounts[2].path, "/dev/shm");
}

}  // namespace
}  // namespace rustyolo::entrypoint
