// The `qwen` agent: Qwen Code (npm @qwen-code/qwen-code) in YOLO mode. The facts below are those of
// the pinned version (agents/pins.txt); the drift scan checks the hosts against them.
#include "agent_manifest.hpp"

namespace {

using namespace rustyolo::agents;

class Qwen : public ManifestAgent {
public:
    using ManifestAgent::ManifestAgent;

    Manifest manifest() const override {
        Manifest m;
        m.agent = "qwen";
        m.executable = "qwen";
        m.yolo_args = {"--yolo"};
        m.inject = append_flag("--append-system-prompt");
        m.egress = {
            {"chat.qwen.ai", "Qwen OAuth login (device code) and its API"},
            {"dashscope.aliyuncs.com", "Alibaba Cloud Model Studio (DashScope) API, China region"},
            {"dashscope-intl.aliyuncs.com", "Alibaba Cloud Model Studio (DashScope) API, international region"},
        };
        m.vendor_domains = {"qwen.ai", "qwenlm.ai", "aliyuncs.com", "aliyun.com", "alibabacloud.com", "alibaba.com"};
        add_each(m.decline, {"qwen.ai", "help.aliyun.com", "aliyun.com", "alibabacloud.com", "www.alibabacloud.com",
                             "alibaba.com", "bailian.console.aliyun.com", "bailian.console.alibabacloud.com",
                             "dashscope.console.aliyun.com", "modelstudio.console.alibabacloud.com"},
                 "documentation and console links shown to the user, never fetched by the CLI");
        add_each(m.decline, {"gb4w8c3ygj-default-sea.rum.aliyuncs.com"},
                 "usage statistics (real-user monitoring); refused here. Switch them off with "
                 "privacy.usageStatisticsEnabled=false in ~/.qwen/settings.json");
        add_each(m.decline, {"qwen-code-assets.oss-cn-hangzhou.aliyuncs.com", "oss-cn-hangzhou.aliyuncs.com"},
                 "release assets and update checks; the image is rebuilt instead");
        add_each(m.decline, {"dashscope-us.aliyuncs.com", "cn-hongkong.dashscope.aliyuncs.com",
                             "coding.dashscope.aliyuncs.com", "coding-intl.dashscope.aliyuncs.com",
                             "maas.aliyuncs.com", "token-plan.ap-southeast-1.maas.aliyuncs.com",
                             "token-plan.cn-beijing.maas.aliyuncs.com"},
                 "other regions and plans of Model Studio, used only when configured: allow yours with --allow-domains");
        m.env_passthrough = {"DASHSCOPE_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL",
                             "BAILIAN_CODING_PLAN_API_KEY"};
        m.env = {{"NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"}};
        m.persist = {{"qwen", "/home/agent/.qwen"}};
        const std::string runs = "Qwen Code reads it as configuration and runs what it names";
        m.protect = {{".qwen/settings.json", runs + " (hooks, MCP servers, tools)"},
                     {".qwen/agents/", "subagents"},
                     {".qwen/commands/", "custom commands, which may run shell commands"},
                     {".qwen/skills/", "skills"},
                     {".qwen/workflows/", "workflows"},
                     {".qwen/statusline-command.sh", "a script the status line runs"},
                     {".qwen/.env", "environment Qwen Code loads (API endpoints, keys)"}};
        return m;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Qwen, "agent-qwen", "0.1.0", "Qwen Code in YOLO mode (--yolo)")
