"""KV-cache sampling: recorded log-probs/entropies equal a teacher-forced forward; padding-invariant."""

from __future__ import annotations

import torch

from entropy_dynamics.train.rollout.play import TurnSample
from entropy_dynamics.train.rollout.sampling import sample_replies
from entropy_dynamics.train.run.batching import collate
from entropy_dynamics.train.run.update import forward_micro_batch
from tests.train.conftest import tiny_model


def _sample(policy, tok, prompts, seed=0, max_new_tokens=8):
    return sample_replies(policy.lm, prompts, eos_id=tok.eos_token_id, pad_id=tok.pad_token_id,
                          max_new_tokens=max_new_tokens, temperature=0.7, generator=torch.Generator().manual_seed(seed))


def test_recorded_logp_and_entropy_match_teacher_forcing():
    cfg, policy, tok = tiny_model(["temperature=0.7"])
    policy.eval()
    prompts = [tok("You are in a kitchen.")["input_ids"], tok("go north")["input_ids"], [5, 6, 7, 8, 9, 10, 11]]
    out = _sample(policy, tok, prompts)
    assert out.tokens.shape[0] == 3 and int(out.lengths.max()) == out.tokens.shape[1]
    samples = [
        TurnSample(episode=i, group=0, turn=0, prompt_ids=p, response_ids=out.tokens[i, : out.lengths[i]],
                   old_logp=out.logp[i, : out.lengths[i]], entropy=out.entropy[i, : out.lengths[i]], reward=0.0,
                   valid=True, format_ok=True, truncated=False, observation="", response_text="", action="")
        for i, p in enumerate(prompts)
    ]
    zeros = [torch.zeros(len(s.response_ids)) for s in samples]
    mb = collate(samples, [0, 1, 2], zeros, zeros, None, tok.pad_token_id)
    with torch.no_grad():
        logp, entropy, _ = forward_micro_batch(policy, mb, cfg, need_hidden=False, entropy_grad=False)
    torch.testing.assert_close(logp * mb.mask, mb.old_logp, atol=1e-4, rtol=1e-4)
    recorded_entropy = torch.zeros_like(entropy)
    for i, s in enumerate(samples):
        recorded_entropy[i, : len(s.entropy)] = s.entropy
    torch.testing.assert_close(entropy * mb.mask, recorded_entropy, atol=1e-4, rtol=1e-4)
    assert bool((out.logp[out.tokens == tok.pad_token_id] == 0).all())


def test_same_generator_seed_same_replies_and_padding_does_not_matter():
    _, policy, tok = tiny_model()
    policy.eval()
    prompt = tok("You are in a kitchen.")["input_ids"]
    alone = _sample(policy, tok, [prompt], seed=3)
    again = _sample(policy, tok, [prompt], seed=3)
    assert torch.equal(alone.tokens, again.tokens)
    # the same prompt left-padded next to a longer one gives the same distribution at each step
    batch = sample_replies(policy.lm, [prompt, prompt + prompt + prompt], eos_id=-1, pad_id=tok.pad_token_id,
                           max_new_tokens=1, temperature=1.0, generator=torch.Generator().manual_seed(0))
    single = sample_replies(policy.lm, [prompt], eos_id=-1, pad_id=tok.pad_token_id, max_new_tokens=1,
                            temperature=1.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(batch.entropy[0], single.entropy[0], atol=1e-5, rtol=1e-5)
    assert bool(batch.truncated.all())


def test_shared_prompt_sampling_gives_the_reference_replies():
    """Shared prefix + distinct prompts once + per-sequence stopping: the same replies (same seed) and the
    same recorded log-probs and entropies as running every prompt in full with every row to the end."""
    _, policy, tok = tiny_model()
    policy.eval()
    gen = torch.Generator().manual_seed(0)
    prefix = tok("You are in a kitchen.")["input_ids"]
    tails = [torch.randint(10, len(tok), (n,), generator=gen).tolist() for n in (3, 7, 1)]
    prompts = [prefix + tails[i % 3] for i in range(8)]
    probe = sample_replies(policy.lm, prompts, eos_id=-1, pad_id=tok.pad_token_id, max_new_tokens=12,
                           temperature=1.0, generator=torch.Generator().manual_seed(5))
    eos = int(probe.tokens[0, 2])  # a token row 0 samples third: some replies end early and leave the batch
    runs = {shared: sample_replies(policy.lm, prompts, eos_id=eos, pad_id=tok.pad_token_id, max_new_tokens=12,
                                   temperature=1.0, generator=torch.Generator().manual_seed(5), shared_prompts=shared)
            for shared in (True, False)}
    fast, full = runs[True], runs[False]
    assert torch.equal(fast.tokens, full.tokens) and torch.equal(fast.lengths, full.lengths)
    assert torch.equal(fast.truncated, full.truncated)
    assert 0 < int((~fast.truncated).sum()) < len(prompts)  # some rows stopped early, some ran to the cap
    torch.testing.assert_close(fast.logp, full.logp, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fast.entropy, full.entropy, atol=1e-5, rtol=1e-5)
    assert fast.prompt_tokens == len(prefix) + 3 + 7 + 1  # the prefix once, each distinct tail once
    assert full.prompt_tokens == sum(len(p) for p in prompts)


def test_inverse_cdf_draw_follows_the_distribution_and_never_draws_a_zero_probability_token():
    from entropy_dynamics.train.rollout.sampling import draw_tokens

    probs = torch.tensor([[0.0, 0.5, 0.0, 0.3, 0.2]])
    uniform = torch.linspace(0, 1, 20_001)[:-1]  # [0, 1): an even grid stands for many draws
    tokens = draw_tokens(probs.expand(len(uniform), -1), uniform)
    counts = torch.bincount(tokens, minlength=5).float() / len(uniform)
    torch.testing.assert_close(counts, probs[0], atol=1e-3, rtol=0)
    assert int(draw_tokens(probs, torch.tensor([0.0]))) == 1  # u = 0: the first token with mass, not token 0
    assert int(draw_tokens(probs, torch.tensor([0.9999999]))) == 4
    unnormalised = draw_tokens(torch.tensor([[0.0, 2.0, 2.0]]), torch.tensor([0.6]))  # rows need not sum to 1
    assert int(unnormalised) == 2


def test_the_preallocated_decode_cache_gives_the_growing_cache_replies():
    """``with_room`` (keys and values written in place) against transformers' DynamicCache (concatenated every
    step): the same replies and log-probs, also when the room runs out and the buffer grows, and when rows
    leave the batch."""
    import importlib

    sampling = importlib.import_module("entropy_dynamics.train.rollout.sampling")
    _, policy, tok = tiny_model()
    policy.eval()
    gen = torch.Generator().manual_seed(0)
    prompts = [torch.randint(10, len(tok), (n,), generator=gen).tolist() for n in (4, 9, 6, 9)]
    probe = sampling.sample_replies(policy.lm, prompts, eos_id=-1, pad_id=tok.pad_token_id, max_new_tokens=10,
                                    temperature=1.0, generator=torch.Generator().manual_seed(2))
    eos = int(probe.tokens[1, 3])
    runs = {}
    original = sampling.with_room
    for name, room in (("roomy", None), ("dynamic", lambda cache, n: cache), ("small room", 3)):
        if callable(room):
            sampling.with_room = room
        elif room is not None:
            sampling.with_room = lambda cache, n, _room=room: original(cache, _room)
        try:
            runs[name] = sampling.sample_replies(policy.lm, prompts, eos_id=eos, pad_id=tok.pad_token_id,
                                                 max_new_tokens=10, temperature=1.0,
                                                 generator=torch.Generator().manual_seed(2))
        finally:
            sampling.with_room = original
    assert 0 < int((~runs["roomy"].truncated).sum()) < len(prompts)  # some rows left the batch early
    for name in ("dynamic", "small room"):
        assert torch.equal(runs[name].tokens, runs["roomy"].tokens), name
        torch.testing.assert_close(runs[name].logp, runs["roomy"].logp, atol=1e-5, rtol=1e-5)
