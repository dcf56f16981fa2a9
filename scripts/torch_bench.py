#!/usr/bin/env python3
"""PyTorch reference for side-by-side speed measurements of `honyaku bench`.

The same three models as Honyaku (`crates/lstm`, `crates/attention`, `crates/transformer`) at
the same presets, on the same shapes (random token ids, no padding), counted the same way:

- train: target tokens (EOS included) per second of whole updates (forward, label-smoothed
  cross-entropy, backward, global-norm clipping to 1.0, Adam with lr 1e-3, β 0.9/0.999, ε 1e-5),
  after untimed warm-up updates; the loss is read back every update, as `honyaku train` does.
- greedy: generated tokens per second (EOS included) of greedy search over one batch with the
  length limit set to exactly --decode-len steps, by the freshly initialised model, ids and
  scores read back to the host every step. The Transformer decodes with a key/value cache
  built from the `nn.TransformerDecoderLayer` weights (Honyaku's decoder caches too);
  --no-cache re-runs the whole prefix every step instead (what `nn.Transformer` alone gives).

Parameter counts equal Honyaku's: Honyaku's LSTM layers have one bias per gate, PyTorch's two
(`bias_ih` and `bias_hh`), so the `bias_hh` tensors are zero and frozen here (same function,
same trainable parameters); the JSON gives their size as `frozen_parameters`.

Prints one JSON object with the fields `honyaku bench` uses for the same quantities
(`parameters`, `train.tokens_per_second`, `train.seconds`, `train.cpu_seconds`,
`greedy.tokens_per_second`, ...). `--self-test` checks, at tiny sizes, that step-by-step
decoding of every model gives the logits of its teacher-forced forward pass.

    python scripts/torch_bench.py --arch lstm --preset small --src-len 16 --tgt-len 16
"""

import argparse
import json
import math
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as error:  # the side-by-side script skips PyTorch on this exit code
    print(f"torch_bench.py: PyTorch is not available to {sys.executable}: {error}", file=sys.stderr)
    sys.exit(3)

PAD_ID, BOS_ID, EOS_ID, FIRST_WORD_ID = 0, 1, 2, 4

# The presets of the model crates' `preset` functions (embedding, hidden sizes, layers, dropout).
PRESETS = {
    "lstm": {
        "tiny": dict(d_embed=32, d_hidden=64, n_layers=1, dropout=0.0),
        "mini": dict(d_embed=128, d_hidden=256, n_layers=1, dropout=0.0),
        "small": dict(d_embed=256, d_hidden=512, n_layers=2, dropout=0.2),
        "base": dict(d_embed=512, d_hidden=1024, n_layers=4, dropout=0.3),
    },
    "attention": {
        "tiny": dict(d_embed=32, d_encoder=64, n_encoder_layers=1, d_decoder=128,
                     n_decoder_layers=1, d_attention=128, dropout=0.0),
        "mini": dict(d_embed=128, d_encoder=128, n_encoder_layers=1, d_decoder=256,
                     n_decoder_layers=1, d_attention=256, dropout=0.0),
        "small": dict(d_embed=256, d_encoder=256, n_encoder_layers=1, d_decoder=512,
                      n_decoder_layers=1, d_attention=512, dropout=0.2),
        "base": dict(d_embed=512, d_encoder=512, n_encoder_layers=2, d_decoder=1024,
                     n_decoder_layers=2, d_attention=1024, dropout=0.3),
    },
    "transformer": {
        "tiny": dict(d_model=32, n_heads=4, d_ff=64, n_layers=2, dropout=0.0, max_len=256),
        "mini": dict(d_model=64, n_heads=4, d_ff=256, n_layers=2, dropout=0.0, max_len=1024),
        "small": dict(d_model=256, n_heads=8, d_ff=1024, n_layers=3, dropout=0.1, max_len=1024),
        "base": dict(d_model=512, n_heads=8, d_ff=2048, n_layers=6, dropout=0.1, max_len=1024),
    },
}


def single_bias_lstm(lstm, d_hidden):
    """Zeroes and freezes PyTorch's second (hidden) bias of every gate, as Honyaku's layers have
    one; starts the forget gates' bias at 1, as Honyaku does. Returns the frozen element count."""
    frozen = 0
    for name, param in lstm.named_parameters():
        if name.startswith("bias_hh"):
            param.data.zero_()
            param.requires_grad_(False)
            frozen += param.numel()
        elif name.startswith("bias_ih"):
            param.data.zero_()
            param.data[d_hidden:2 * d_hidden] = 1.0
    return frozen


class LstmSeq2Seq(nn.Module):
    """LSTM encoder-decoder; the decoder starts from the encoder's final state of every layer."""

    def __init__(self, vocab, d_embed, d_hidden, n_layers, dropout):
        super().__init__()
        self.src_embed = nn.Embedding(vocab, d_embed)
        self.tgt_embed = nn.Embedding(vocab, d_embed)
        between = dropout if n_layers > 1 else 0.0
        self.encoder = nn.LSTM(d_embed, d_hidden, n_layers, batch_first=True, dropout=between)
        self.decoder = nn.LSTM(d_embed, d_hidden, n_layers, batch_first=True, dropout=between)
        self.output = nn.Linear(d_hidden, vocab)
        self.dropout = nn.Dropout(dropout)
        self.frozen = sum(single_bias_lstm(m, d_hidden) for m in (self.encoder, self.decoder))

    def start(self, src):
        _, state = self.encoder(self.dropout(self.src_embed(src)))
        return None, state

    def forward(self, src, tgt_in):
        _, state = self.start(src)
        out, _ = self.decoder(self.dropout(self.tgt_embed(tgt_in)), state)
        return self.output(self.dropout(out))

    def step(self, memory, state, prev):
        out, state = self.decoder(self.dropout(self.tgt_embed(prev[:, None])), state)
        return self.output(self.dropout(out[:, 0])), state


class AttentionSeq2Seq(nn.Module):
    """Bidirectional LSTM encoder, a bridge from its top layer's final states to the decoder's
    initial states, an LSTM decoder with input feeding and additive attention (Luong-style
    attentional vector `tanh(W_c [context; h])`)."""

    def __init__(self, vocab, d_embed, d_encoder, n_encoder_layers, d_decoder, n_decoder_layers,
                 d_attention, dropout):
        super().__init__()
        self.src_embed = nn.Embedding(vocab, d_embed)
        self.tgt_embed = nn.Embedding(vocab, d_embed)
        self.encoder = nn.LSTM(d_embed, d_encoder, n_encoder_layers, batch_first=True,
                               bidirectional=True,
                               dropout=dropout if n_encoder_layers > 1 else 0.0)
        self.bridge = nn.Linear(4 * d_encoder, 2 * n_decoder_layers * d_decoder)
        self.decoder = nn.ModuleList(
            nn.LSTMCell(d_embed + d_decoder if i == 0 else d_decoder, d_decoder)
            for i in range(n_decoder_layers))
        self.key = nn.Linear(2 * d_encoder, d_attention, bias=False)
        self.query = nn.Linear(d_decoder, d_attention)
        self.score = nn.Linear(d_attention, 1, bias=False)
        self.combine = nn.Linear(2 * d_encoder + d_decoder, d_decoder, bias=False)
        self.output = nn.Linear(d_decoder, vocab)
        self.dropout = nn.Dropout(dropout)
        self.d_decoder = d_decoder
        self.frozen = single_bias_lstm(self.encoder, d_encoder) + sum(
            single_bias_lstm(cell, d_decoder) for cell in self.decoder)

    def start(self, src):
        values, (h, c) = self.encoder(self.dropout(self.src_embed(src)))
        top = torch.cat([h[-2], h[-1], c[-2], c[-1]], 1)
        parts = torch.tanh(self.bridge(top)).chunk(2 * len(self.decoder), 1)
        layers = [(parts[2 * i], parts[2 * i + 1]) for i in range(len(self.decoder))]
        feed = values.new_zeros(src.shape[0], self.d_decoder)
        return (values, self.key(values)), (layers, feed)

    def attentional(self, memory, state, embedded):
        values, keys = memory
        layers, feed = state
        x, new_layers = torch.cat([embedded, feed], 1), []
        for i, (cell, hc) in enumerate(zip(self.decoder, layers)):
            h, c = cell(x if i == 0 else self.dropout(x), hc)
            new_layers.append((h, c))
            x = h
        scores = self.score(torch.tanh(keys + self.query(x)[:, None])).squeeze(2)
        weights = torch.softmax(scores, 1)
        context = torch.bmm(weights[:, None], values).squeeze(1)
        out = self.dropout(torch.tanh(self.combine(torch.cat([context, x], 1))))
        return out, (new_layers, out)

    def forward(self, src, tgt_in):
        memory, state = self.start(src)
        embedded = self.dropout(self.tgt_embed(tgt_in))
        outputs = []
        for t in range(tgt_in.shape[1]):
            out, state = self.attentional(memory, state, embedded[:, t])
            outputs.append(out)
        return self.output(torch.stack(outputs, 1))

    def step(self, memory, state, prev):
        out, state = self.attentional(memory, state, self.dropout(self.tgt_embed(prev)))
        return self.output(out), state


def sinusoids(length, d_model):
    """Burn's `generate_sinusoids`: sin on even features, cos on odd ones."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32)
                     * (-math.log(10000.0) / d_model))
    table = torch.empty(length, d_model)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)
    return table


class TransformerSeq2Seq(nn.Module):
    """Pre-norm Transformer with final layer norms, sinusoidal positions, embeddings scaled by
    √d drawn from N(0, 1/d), the output projection tied to the target embedding (with its own
    bias)."""

    def __init__(self, vocab, d_model, n_heads, d_ff, n_layers, dropout, max_len):
        super().__init__()
        self.src_embed = nn.Embedding(vocab, d_model)
        self.tgt_embed = nn.Embedding(vocab, d_model)
        for embedding in (self.src_embed, self.tgt_embed):
            nn.init.normal_(embedding.weight, 0.0, d_model ** -0.5)
        layer = dict(d_model=d_model, nhead=n_heads, dim_feedforward=d_ff, dropout=dropout,
                     batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer), n_layers,
                                             norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), n_layers,
                                             norm=nn.LayerNorm(d_model))
        self.output_bias = nn.Parameter(torch.zeros(vocab))
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("positions", sinusoids(max_len, d_model), persistent=False)
        self.d_model, self.n_heads, self.frozen, self.cached = d_model, n_heads, 0, True

    def embed(self, embedding, ids, offset):
        x = embedding(ids) * math.sqrt(self.d_model)
        return self.dropout(x + self.positions[offset:offset + ids.shape[1]])

    def project(self, hidden):
        return F.linear(hidden, self.tgt_embed.weight, self.output_bias)

    def decode_full(self, memory, tgt_in):
        length = tgt_in.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(length)
        hidden = self.decoder(self.embed(self.tgt_embed, tgt_in, 0), memory, tgt_mask=mask,
                              tgt_is_causal=True)
        return self.project(hidden)

    def forward(self, src, tgt_in):
        return self.decode_full(self.encoder(self.embed(self.src_embed, src, 0)), tgt_in)

    def heads(self, x):
        batch, length, _ = x.shape
        return x.view(batch, length, self.n_heads, -1).transpose(1, 2)

    def merge(self, x):
        batch, _, length, _ = x.shape
        return x.transpose(1, 2).reshape(batch, length, self.d_model)

    def start(self, src):
        memory = self.encoder(self.embed(self.src_embed, src, 0))
        if not self.cached:
            return memory, src.new_zeros((src.shape[0], 0))
        d = self.d_model
        cross = []
        for layer in self.decoder.layers:
            attn = layer.multihead_attn
            kv = F.linear(memory, attn.in_proj_weight[d:], attn.in_proj_bias[d:])
            cross.append(tuple(self.heads(part) for part in kv.chunk(2, -1)))
        return cross, [None] * len(self.decoder.layers)

    def step(self, memory, state, prev):
        if not self.cached:  # re-runs the whole prefix, as nn.Transformer alone can
            prefix = torch.cat([state, prev[:, None]], 1)
            return self.decode_full(memory, prefix)[:, -1], prefix
        offset = 0 if state[0] is None else state[0][0].shape[2]
        x = self.embed(self.tgt_embed, prev[:, None], offset)
        new_state, d = [], self.d_model
        for layer, (key, value), past in zip(self.decoder.layers, memory, state):
            attn = layer.self_attn
            q, k, v = (self.heads(part) for part in
                       F.linear(layer.norm1(x), attn.in_proj_weight, attn.in_proj_bias)
                       .chunk(3, -1))
            if past is not None:
                k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
            new_state.append((k, v))
            x = x + attn.out_proj(self.merge(F.scaled_dot_product_attention(q, k, v)))
            cross = layer.multihead_attn
            q = self.heads(F.linear(layer.norm2(x), cross.in_proj_weight[:d],
                                    cross.in_proj_bias[:d]))
            context = F.scaled_dot_product_attention(q, key, value)
            x = x + cross.out_proj(self.merge(context))
            x = x + layer.linear2(F.relu(layer.linear1(layer.norm3(x))))
        return self.project(self.decoder.norm(x))[:, 0], new_state


MODELS = {"lstm": LstmSeq2Seq, "attention": AttentionSeq2Seq, "transformer": TransformerSeq2Seq}


def build(arch, preset, vocab):
    return MODELS[arch](vocab, **PRESETS[arch][preset])


def random_batch(args, generator):
    """`src_len - 1` random words and EOS; target inputs `BOS y…`, outputs `y… EOS`."""
    def words(length):
        return torch.randint(FIRST_WORD_ID, max(args.vocab, FIRST_WORD_ID + 1),
                             (args.batch, length), generator=generator)
    column = lambda token: torch.full((args.batch, 1), token, dtype=torch.long)
    src = torch.cat([words(args.src_len - 1), column(EOS_ID)], 1)
    target = words(args.tgt_len - 1)
    return src, torch.cat([column(BOS_ID), target], 1), torch.cat([target, column(EOS_ID)], 1)


class Clock:
    """Wall and process CPU time (all threads) since the start."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def elapsed(self):
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


@torch.no_grad()
def greedy(model, src, max_len):
    """Greedy search from BOS for exactly `max_len` steps or until every row has emitted EOS;
    returns the tokens generated, EOS included."""
    model.eval()
    memory, state = model.start(src)
    prev = torch.full((src.shape[0],), BOS_ID, dtype=torch.long)
    finished, tokens = [False] * src.shape[0], 0
    for _ in range(max_len):
        logits, state = model.step(memory, state, prev)
        log_probs = F.log_softmax(logits, 1)
        prev = log_probs.argmax(1)
        ids, _scores = prev.tolist(), log_probs.gather(1, prev[:, None]).tolist()
        for row, token in enumerate(ids):
            if not finished[row]:
                tokens += 1
                finished[row] = token == EOS_ID
        if all(finished):
            break
    return tokens


def throughput(tokens, clock):
    seconds, cpu_seconds = clock.elapsed()
    return dict(tokens=tokens, seconds=seconds, cpu_seconds=cpu_seconds,
                tokens_per_second=tokens / max(seconds, 1e-9))


def train(model, batch, args):
    """`warmup` untimed, then `steps` timed updates."""
    src, tgt_in, tgt_out = batch
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-5)
    losses, clock = [], Clock()
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            clock = Clock()
        torch.manual_seed(args.seed + step)
        logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                               ignore_index=PAD_ID, label_smoothing=0.1)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        losses.append(loss.item())
    seconds, cpu_seconds = clock.elapsed()
    tokens_per_step = tgt_out.numel()
    return dict(steps=args.steps, tokens_per_step=tokens_per_step, seconds=seconds,
                cpu_seconds=cpu_seconds,
                tokens_per_second=args.steps * tokens_per_step / max(seconds, 1e-9),
                loss_first=losses[args.warmup], loss_last=losses[-1])


def bench(args):
    torch.manual_seed(args.seed)
    model = build(args.arch, args.preset, args.vocab)
    if args.arch == "transformer":
        model.cached = not args.no_cache
        longest = max(args.src_len, args.tgt_len, args.decode_len)
        if longest > model.positions.shape[0]:
            sys.exit(f"torch_bench.py: lengths must be at most {model.positions.shape[0]} for "
                     f"the {args.preset} transformer's position table; got {longest}")
    batch = random_batch(args, torch.Generator().manual_seed(args.seed))
    greedy(model, batch[0], 2)  # warm-up, as honyaku bench does
    clock = Clock()
    greedy_result = throughput(greedy(model, batch[0], args.decode_len), clock)
    train_result = train(model, batch, args)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "arch": args.arch,
        "backend": "pytorch",
        "preset": args.preset,
        "shape": dict(batch=args.batch, src_len=args.src_len, tgt_len=args.tgt_len,
                      vocab=args.vocab, steps=args.steps, warmup=args.warmup,
                      decode_len=args.decode_len),
        "parameters": trainable,
        "frozen_parameters": model.frozen,
        "train": train_result,
        "greedy": dict(greedy_result, kv_cache=args.arch != "transformer" or not args.no_cache),
        "torch": dict(version=torch.__version__, threads=torch.get_num_threads(),
                      cpu_capability=torch.backends.cpu.get_cpu_capability()),
    }


@torch.no_grad()
def self_test():
    """Step-by-step decoding equals the teacher-forced forward pass, for every model (tiny
    preset, small vocabulary, dropout off), with and without the Transformer's cache."""
    args = argparse.Namespace(batch=3, src_len=5, tgt_len=4, vocab=30, seed=1)
    src, tgt_in, _ = random_batch(args, torch.Generator().manual_seed(1))
    worst = 0.0
    for arch in MODELS:
        for cached in ([True, False] if arch == "transformer" else [True]):
            torch.manual_seed(0)
            model = build(arch, "tiny", args.vocab).eval()
            model.cached = cached
            full = model(src, tgt_in)
            memory, state = model.start(src)
            for t in range(tgt_in.shape[1]):
                logits, state = model.step(memory, state, tgt_in[:, t])
                diff = (logits - full[:, t]).abs().max().item()
                worst = max(worst, diff)
                if diff > 1e-4:
                    sys.exit(f"self-test: {arch} (cache {cached}) step {t} differs by {diff}")
    print(f"self-test: step-by-step decoding equals the forward pass for {', '.join(MODELS)} "
          f"(largest difference {worst:.2e})")


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=MODELS, default="lstm")
    parser.add_argument("--preset", choices=["tiny", "mini", "small", "base"], default="small")
    parser.add_argument("--batch", type=positive, default=64)
    parser.add_argument("--src-len", type=positive, default=16)
    parser.add_argument("--tgt-len", type=positive, default=16)
    parser.add_argument("--vocab", type=positive, default=8000)
    parser.add_argument("--steps", type=positive, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--decode-len", type=positive, default=32)
    parser.add_argument("--threads", type=positive, default=2,
                        help="intra-op threads (honyaku uses every core; this machine has 2)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-cache", action="store_true",
                        help="Transformer greedy search re-runs the prefix every step")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args(argv)
    if args.src_len < 2 or args.tgt_len < 2 or args.vocab < 5 or args.warmup < 0:
        parser.error("needs --src-len ≥ 2, --tgt-len ≥ 2, --vocab ≥ 5 and --warmup ≥ 0")
    return args


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.self_test:
        self_test()
        return
    print(json.dumps(bench(args), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
