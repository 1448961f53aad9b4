#include "vlm/activation_checkpoint.h"

#include <ATen/Context.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

namespace mpa::vlm {

namespace {

at::Generator generatorFor(const torch::Tensor &t)
{
    return at::globalContext().defaultGenerator(t.device());
}

class CheckpointNode : public torch::autograd::Node
{
public:
    CheckpointNode(BlockFn block, torch::Tensor input, torch::Tensor rngState)
        : m_block(std::move(block))
        , m_input(std::move(input))
        , m_rngState(std::move(rngState))
    {
    }

    std::string name() const override { return kCheckpointNodeName; }

    torch::autograd::variable_list apply(torch::autograd::variable_list &&grads) override
    {
        at::Generator gen = generatorFor(m_input);
        torch::Tensor after;
        {
            std::lock_guard<std::mutex> lock(gen.mutex());
            after = gen.get_state();
            gen.set_state(m_rngState); // the draws the forward made
        }
        auto x = m_input.detach().requires_grad_(m_inputNeedsGrad);
        torch::Tensor y;
        {
            torch::AutoGradMode on(true);
            y = m_block(x);
        }
        {
            std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(after);
        }
        if (y.requires_grad())
            torch::autograd::backward({y}, {grads[0]});
        torch::autograd::variable_list out(1);
        if (m_inputNeedsGrad)
            out[0] = x.grad();
        m_input.reset(); // what the node kept is released once its backward has run
        return out;
    }

    bool m_inputNeedsGrad = false;

private:
    BlockFn m_block;
    torch::Tensor m_input;
    torch::Tensor m_rngState;
};

} // namespace

torch::Tensor checkpointed(const BlockFn &block, const torch::Tensor &input)
{
    if (!torch::GradMode::is_enabled())
        return block(input);
    torch::Tensor rngState;
    {
        at::Generator gen = generatorFor(input);
        std::lock_guard<std::mutex> lock(gen.mutex());
        rngState = gen.get_state();
    }
    torch::Tensor y;
    {
        torch::NoGradGuard noGrad;
        y = block(input);
    }
    auto node = std::shared_ptr<CheckpointNode>(new CheckpointNode(block, input.detach(), rngState), torch::autograd::deleteNode);
    node->m_inputNeedsGrad = input.requires_grad();
    node->set_next_edges(torch::autograd::collect_next_edges(input));
    torch::autograd::set_history(y, node);
    return y;
}

} // namespace mpa::vlm
