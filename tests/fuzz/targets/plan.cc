// The Plan as the entrypoint reads it from /run/rustyolo/plan.json (entrypoint/plan_file.cc,
// load_plan -> load_plan_text; plan_from_json of the SDK, which the network and runtime plugins use
// too). A Plan that is accepted round-trips: to_json and back gives the same Plan.
#include "entrypoint/plan_file.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <rustyolo/sdk/plan.hpp>

#include <stdexcept>

using namespace rustyolo;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    entrypoint::LoadedPlan loaded;
    try {
        loaded = entrypoint::load_plan_text(fuzz::text(data, size), kPlanContainerPath);
    } catch (const std::runtime_error &) {
        return 0;  // sdk::JsonError and the entrypoint's own refusals, each naming the JSON path
    }
    const Plan &plan = loaded.plan;
    fuzz::check(plan.user.uid != 0 && plan.user.gid != 0, "a root agent was accepted");
    fuzz::check(!plan.workdir.empty() && plan.workdir.front() == '/', "relative workdir", plan.workdir);
    const boost::json::value again = to_json(plan);
    Plan reread;
    try {
        reread = plan_from_json(again);
    } catch (const std::runtime_error &e) {
        fuzz::check(false, "a Plan's own JSON is refused", e.what());
    }
    fuzz::check(reread == plan, "the Plan does not round-trip", boost::json::serialize(again));
    return 0;
}
