#include "entrypoint/plan_file.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rustyolo::entrypoint {
namespace {

namespace fs = std::filesystem;

class PlanFile : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/rustyolo-plan-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir = pattern;
        Plan plan;
        plan.session = "s1";
        plan.image = "rustyolo:latest";
        plan.project = "/p";
        plan.agent = PlanAgent{"exec", "generic", {"id"}};
        plan.container_plugins = {"net-nftables", "seccomp"};
        document = to_json(plan);
    }
    void TearDown() override { fs::remove_all(dir); }
    std::string write(const boost::json::value &value) {
        std::ofstream(dir / "plan.json") << boost::json::serialize(value);
        return (dir / "plan.json").string();
    }
    std::string message(const std::string &path) {
        try {
            load_plan(path);
        } catch (const std::exception &e) {
            return e.what();
        }
        return "";
    }
    fs::path dir;
    boost::json::value document;
};

TEST_F(PlanFile, LoadsThePlanAndKeepsTheDocumentForThePlugins) {
    LoadedPlan loaded = load_plan(write(document));
    EXPECT_EQ(loaded.plan.agent.argv, std::vector<std::string>{"id"});
    EXPECT_EQ(loaded.document, document);
}

TEST_F(PlanFile, RefusesAnotherSchema) {
    document.as_object()["schema"] = kPlanSchema + 1;
    EXPECT_NE(message(write(document)).find("/schema"), std::string::npos);
}

TEST_F(PlanFile, RefusesARootAgent) {
    document.as_object()["user"].as_object()["uid"] = 0;
    EXPECT_NE(message(write(document)).find("/user/uid"), std::string::npos);
}

TEST_F(PlanFile, RefusesARelativeWorkdir) {
    document.as_object()["workdir"] = "app";
    EXPECT_NE(message(write(document)).find("/workdir"), std::string::npos);
}

TEST_F(PlanFile, NamesTheFileWhenItIsMissingOrNotJson) {
    EXPECT_NE(message((dir / "none.json").string()).find("start the sandbox with `rustyolo`"),
              std::string::npos);
    std::ofstream(dir / "bad.json") << "{";
    EXPECT_NE(message((dir / "bad.json").string()).find("not valid JSON"), std::string::npos);
}

TEST_F(PlanFile, DoesNotFollowASymlink) {
    const std::string real = write(document);
    fs::create_symlink(real, dir / "link.json");
    EXPECT_NE(message((dir / "link.json").string()).find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace rustyolo::entrypoint
