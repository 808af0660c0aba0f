//! The generation loop: one left-padded batch, one sampler per row, rows finish independently.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Tensor;

use crate::error::{InferenceError, Result};
use crate::mask::BatchLayout;
use crate::qwen2::DecoderInput;
use crate::sampling::Sampler;
use crate::stop::StopScanner;
use crate::text_model::TextModel;
use crate::types::{FinishReason, GenerateOutput, GenerateRequest, Usage};

/// Streaming sink: `(row, new text)`.
type RowSink<'a> = &'a mut dyn FnMut(usize, &str);

/// State of one sequence of the batch.
struct Row {
    sampler: Sampler,
    history: Vec<u32>,
    prompt_len: usize,
    max_tokens: usize,
    generated: Vec<u32>,
    sampled: usize,
    scanner: StopScanner,
    text: String,
    finish: Option<FinishReason>,
}

impl TextModel {
    /// Generates for one request; `on_token` receives each new piece of text as it becomes final
    /// (stop strings are never streamed). Setting `cancel` ends the call with `E_ABORTED`.
    pub fn generate(
        &mut self,
        req: &GenerateRequest,
        on_token: &mut dyn FnMut(&str),
        cancel: &AtomicBool,
    ) -> Result<GenerateOutput> {
        let mut sink = |_: usize, piece: &str| on_token(piece);
        let mut outputs = self.run_batch(std::slice::from_ref(req), &mut sink, cancel)?;
        outputs
            .pop()
            .ok_or_else(|| InferenceError::Runtime("no output".into()))
    }

    /// Generates for several requests in one left-padded batch; outputs keep the input order.
    pub fn generate_batch(
        &mut self,
        reqs: &[GenerateRequest],
        cancel: &AtomicBool,
    ) -> Result<Vec<GenerateOutput>> {
        if reqs.is_empty() {
            return Ok(Vec::new());
        }
        self.run_batch(reqs, &mut |_, _| {}, cancel)
    }

    fn run_batch(
        &mut self,
        reqs: &[GenerateRequest],
        sink: RowSink,
        cancel: &AtomicBool,
    ) -> Result<Vec<GenerateOutput>> {
        let mut rows = reqs
            .iter()
            .map(|r| self.new_row(r))
            .collect::<Result<Vec<_>>>()?;
        let lengths: Vec<usize> = rows.iter().map(|r| r.prompt_len).collect();
        let longest_run = rows.iter().map(|r| r.max_tokens).max().unwrap_or(0);
        self.check_length(lengths.iter().max().unwrap_or(&0) + longest_run)?;
        let layout = BatchLayout::for_lengths(&lengths);
        let input = self.padded_prompts(&rows, &layout)?; // (b, width)
        self.cache.clear();
        let mut logits =
            self.decoder
                .forward_last(DecoderInput::Tokens(&input), &layout, &mut self.cache)?;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(InferenceError::Aborted);
            }
            for (index, row) in rows.iter_mut().enumerate() {
                if row.finish.is_none() {
                    self.step_row(row, &logits.get(index)?, &mut |piece| sink(index, piece))?;
                }
            }
            if rows.iter().all(|r| r.finish.is_some()) {
                break;
            }
            let next: Vec<u32> = rows
                .iter()
                .map(|r| r.history.last().copied().unwrap_or(0))
                .collect();
            let next = Tensor::from_vec(next, (rows.len(), 1), self.decoder.device())?;
            logits =
                self.decoder
                    .forward_last(DecoderInput::Tokens(&next), &layout, &mut self.cache)?;
        }
        Ok(rows.into_iter().map(Row::into_output).collect())
    }

    fn new_row(&self, req: &GenerateRequest) -> Result<Row> {
        req.sampling.validate()?;
        if req.max_tokens == 0 {
            return Err(InferenceError::bad_input("max_tokens must be >= 1"));
        }
        let prompt = self.prompt_ids(&req.prompt)?;
        self.check_length(prompt.len() + req.max_tokens)?;
        Ok(Row {
            sampler: Sampler::new(req.sampling.clone()),
            prompt_len: prompt.len(),
            history: prompt,
            max_tokens: req.max_tokens,
            generated: Vec::new(),
            sampled: 0,
            scanner: StopScanner::new(&req.stop),
            text: String::new(),
            finish: None,
        })
    }

    /// `(b, width)` prompt ids, left-padded with the pad id.
    fn padded_prompts(&self, rows: &[Row], layout: &BatchLayout) -> Result<Tensor> {
        let pad = self.tokenizer.pad_id();
        let width = rows.iter().map(|r| r.prompt_len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows.len() * width);
        for (row, &left) in rows.iter().zip(&layout.left_pad) {
            ids.extend(std::iter::repeat_n(pad, left));
            ids.extend_from_slice(&row.history);
        }
        Ok(Tensor::from_vec(
            ids,
            (rows.len(), width),
            self.decoder.device(),
        )?)
    }

    /// Samples one token for `row` from its `(vocab,)` logits and updates text and finish state.
    fn step_row(&self, row: &mut Row, logits: &Tensor, emit: &mut dyn FnMut(&str)) -> Result<()> {
        let token = row.sampler.next_token(logits, &row.history)?;
        row.sampled += 1;
        row.history.push(token);
        if self.tokenizer.eos_ids().contains(&token) {
            row.finish = Some(FinishReason::Stop);
        } else {
            row.generated.push(token);
            row.text = self.tokenizer.decode(&row.generated)?;
            let piece = row.scanner.update(&row.text);
            if !piece.is_empty() {
                emit(&piece);
            }
            if row.scanner.stopped_at().is_some() {
                row.finish = Some(FinishReason::Stop);
            } else if row.sampled >= row.max_tokens {
                row.finish = Some(FinishReason::Length);
            }
        }
        if row.finish.is_some() {
            let rest = row.scanner.finish(&row.text);
            if !rest.is_empty() {
                emit(&rest);
            }
        }
        Ok(())
    }
}

impl Row {
    fn into_output(self) -> GenerateOutput {
        GenerateOutput {
            text: self.scanner.final_text(&self.text).to_string(),
            token_ids: self.generated,
            usage: Usage {
                prompt_tokens: self.prompt_len,
                completion_tokens: self.sampled,
            },
            finish_reason: self.finish.unwrap_or(FinishReason::Length),
        }
    }
}
