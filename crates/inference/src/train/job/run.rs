//! The training loop: seeded steps over the batch plan, held-out loss every N steps, a
//! checkpoint every N steps, a cancel flag honoured at step boundaries, and the outputs at the end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::Serialize;

use super::best::best_eval_row;
use super::config::FinetuneConfig;
use super::eval::{evaluate, EvalMetrics};
use super::outputs::{peak_rss_bytes, write_curve, write_summary, TrainSummary};
use super::setup::{best_dir, checkpoint_dir, prepare, Prepared};
use super::state::{BestMarker, CurveRow, BEST_MARKER, FILE as STATE_FILE};
use crate::error::{InferenceError, Result};
use crate::train::adapter::save_adapter;
use crate::train::checkpoint::{save_adapter_atomically, save_checkpoint_with};
use crate::train::data::{TokenBatch, TokenizedExample};

/// Reported after every optimizer step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub step: usize,
    pub total_steps: usize,
    /// 1-based epoch of this step.
    pub epoch: usize,
    pub train_loss: f64,
    /// Set on the steps that evaluated.
    pub eval_loss: Option<f64>,
    /// The share of eval examples greedy decoding reproduces; set with `eval_loss`.
    pub eval_exact_match: Option<f64>,
    pub lr: f64,
    pub grad_norm: f64,
    /// Tokens trained on so far (all sessions).
    pub tokens: u64,
    /// Of this session's steps.
    pub tokens_per_second: f64,
    pub elapsed_seconds: f64,
    pub eta_seconds: f64,
    /// Whether a checkpoint was written after this step.
    pub checkpointed: bool,
}

/// Trains a LoRA adapter as `config` says and writes it with its loss curve and summary into
/// `config.output_dir`. Setting `cancel` stops at the next step boundary after writing a
/// checkpoint, and returns `E_ABORTED`; `resume` continues from that checkpoint.
pub fn run_finetune(
    config: FinetuneConfig,
    mut progress: impl FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<TrainSummary> {
    let started = Instant::now();
    let config = config.validated()?;
    // Created only once the model and data have passed their checks: a refused job leaves no
    // empty folder behind.
    let prepared = prepare(&config)?;
    std::fs::create_dir_all(&config.output_dir).map_err(|e| {
        InferenceError::bad_input(format!(
            "output folder {}: {e}",
            config.output_dir.display()
        ))
    })?;
    let mut job = Job::new(&config, prepared, started);
    job.train(&mut progress, cancel)?;
    job.finish()
}

struct Job<'a> {
    config: &'a FinetuneConfig,
    p: Prepared,
    started: Instant,
    loop_started: Instant,
    prior_wall: f64,
    prior_train: f64,
    session_train: f64,
    session_tokens: u64,
    session_steps: usize,
    checkpointed_at: Option<usize>,
}

impl<'a> Job<'a> {
    fn new(config: &'a FinetuneConfig, p: Prepared, started: Instant) -> Self {
        Self {
            config,
            prior_wall: p.state.wall_seconds,
            prior_train: p.state.train_seconds,
            checkpointed_at: p.resumed_from,
            p,
            started,
            loop_started: Instant::now(),
            session_train: 0.0,
            session_tokens: 0,
            session_steps: 0,
        }
    }

    fn step(&self) -> usize {
        self.p.trainer.steps_taken()
    }

    fn train(&mut self, progress: &mut impl FnMut(&Progress), cancel: &AtomicBool) -> Result<()> {
        if self.p.state.rows.is_empty() && !self.p.data.eval.is_empty() {
            let eval = self.evaluate()?;
            self.p.state.rows.push(CurveRow {
                step: 0,
                train_loss: None,
                eval_loss: Some(eval.loss),
                eval_exact_match: Some(eval.exact_match),
                lr: 0.0,
                tokens: 0,
            });
            self.keep_if_best()?;
        }
        self.loop_started = Instant::now();
        while self.step() < self.p.total_steps {
            if cancel.load(Ordering::Relaxed) {
                self.checkpoint()?;
                return Err(InferenceError::Aborted);
            }
            let report = self.train_step()?;
            progress(&report);
        }
        Ok(())
    }

    /// One optimizer step, then the eval and checkpoint that fall on it.
    fn train_step(&mut self) -> Result<Progress> {
        let index = self.step();
        let batches = self.micro_batches(index)?;
        let tokens: u64 = batches.iter().flat_map(|b| &b.lengths).sum::<usize>() as u64;
        let timer = Instant::now();
        let report = self.p.trainer.step(&self.p.model, &batches)?;
        self.session_train += timer.elapsed().as_secs_f64();
        self.session_tokens += tokens;
        self.session_steps += 1;
        let state = &mut self.p.state;
        state.tokens += tokens;
        state.loss_tokens += report.loss_tokens as u64;
        let step = report.step;
        let last = step == self.p.total_steps;
        let due = |every: usize| last || (every > 0 && step % every == 0);
        let eval = if !self.p.data.eval.is_empty() && due(self.config.eval_every) {
            Some(self.evaluate()?)
        } else {
            None
        };
        self.p.state.rows.push(CurveRow {
            step,
            train_loss: Some(report.loss),
            eval_loss: eval.map(|e| e.loss),
            eval_exact_match: eval.map(|e| e.exact_match),
            lr: report.lr,
            tokens: self.p.state.tokens,
        });
        if eval.is_some() {
            self.keep_if_best()?;
        }
        let checkpointed = due(self.config.checkpoint_every);
        if checkpointed {
            self.checkpoint()?;
        }
        Ok(self.progress(report.loss, report.lr, report.grad_norm, eval, checkpointed))
    }

    fn micro_batches(&self, step: usize) -> Result<Vec<TokenBatch>> {
        let plan = self.p.plan.micro_batches(step).ok_or_else(|| {
            InferenceError::Runtime(format!("step {step} is past the batch plan"))
        })?;
        plan.iter()
            .map(|indices| {
                let refs: Vec<&TokenizedExample> =
                    indices.iter().map(|&i| &self.p.data.train[i]).collect();
                TokenBatch::new(&refs, self.p.data.pad_id, &self.p.device)
            })
            .collect()
    }

    fn progress(
        &self,
        train_loss: f64,
        lr: f64,
        grad_norm: f64,
        eval: Option<EvalMetrics>,
        checkpointed: bool,
    ) -> Progress {
        let step = self.step();
        let elapsed = self.loop_started.elapsed().as_secs_f64();
        let per_step = elapsed / self.session_steps.max(1) as f64;
        Progress {
            step,
            total_steps: self.p.total_steps,
            epoch: (step - 1) / self.p.plan.steps_per_epoch() + 1,
            train_loss,
            eval_loss: eval.map(|e| e.loss),
            eval_exact_match: eval.map(|e| e.exact_match),
            lr,
            grad_norm,
            tokens: self.p.state.tokens,
            tokens_per_second: rate(self.session_tokens, self.session_train),
            elapsed_seconds: self.prior_wall + self.started.elapsed().as_secs_f64(),
            eta_seconds: per_step * (self.p.total_steps - step) as f64,
            checkpointed,
        }
    }

    fn evaluate(&self) -> Result<EvalMetrics> {
        evaluate(
            &self.p.model,
            &self.p.data.eval,
            self.config.batch_size,
            self.p.data.pad_id,
            &self.p.device,
        )
    }

    /// Saves the adapter as `best/` when the eval row just pushed is the run's best so far by
    /// `--best-by` (the first of equals, as the summary's `best_eval_step`). Step 0 counts: if
    /// training only ever made the eval numbers worse, `best/` is the untrained adapter, the base
    /// model itself. A resume replays the steps after its checkpoint bit for bit, so it rewrites
    /// the same `best/`.
    fn keep_if_best(&self) -> Result<()> {
        let rows = &self.p.state.rows;
        let (Some(last), Some(best)) = (rows.last(), best_eval_row(rows, self.config.best_by))
        else {
            return Ok(());
        };
        if best.step != last.step {
            return Ok(());
        }
        let marker = BestMarker {
            step: best.step,
            eval_loss: best.eval_loss.unwrap_or(f64::NAN),
            eval_exact_match: best.eval_exact_match,
            best_by: self.config.best_by,
        };
        save_adapter_atomically(
            &best_dir(self.config),
            &self.p.model,
            Some(&self.base_model_name()),
            &[(BEST_MARKER, &marker.to_bytes()?)],
        )
    }

    /// Adapter, optimizer and job state in one atomic folder, then the curve so far.
    fn checkpoint(&mut self) -> Result<()> {
        if self.checkpointed_at != Some(self.step()) {
            self.p.state.wall_seconds = self.prior_wall + self.started.elapsed().as_secs_f64();
            self.p.state.train_seconds = self.prior_train + self.session_train;
            let state = self.p.state.to_bytes()?;
            save_checkpoint_with(
                &checkpoint_dir(self.config),
                &self.p.model,
                &self.p.trainer,
                Some(&self.base_model_name()),
                &[(STATE_FILE, &state)],
            )?;
            self.checkpointed_at = Some(self.step());
        }
        write_curve(&self.config.output_dir, &self.p.state.rows)
    }

    fn base_model_name(&self) -> String {
        self.config
            .base_model_name
            .clone()
            .unwrap_or_else(|| self.config.model.display().to_string())
    }

    fn finish(mut self) -> Result<TrainSummary> {
        self.checkpoint()?;
        let dir = &self.config.output_dir;
        save_adapter(&self.p.model, dir, Some(&self.base_model_name()))?;
        let state = &self.p.state;
        let mut summary = TrainSummary {
            steps: self.step(),
            epochs: self.config.epochs,
            examples: self.p.data.train.len(),
            eval_examples: self.p.data.eval.len(),
            tokens: state.tokens,
            loss_tokens: state.loss_tokens,
            first_train_loss: f64::NAN,
            final_train_loss: f64::NAN,
            best_train_loss: f64::NAN,
            initial_eval_loss: None,
            final_eval_loss: None,
            best_eval_loss: None,
            best_eval_step: None,
            initial_eval_exact_match: None,
            final_eval_exact_match: None,
            best_eval_exact_match: None,
            best_by: self.config.best_by,
            best_adapter_dir: None,
            tokens_per_second: rate(state.tokens, self.prior_train + self.session_train),
            wall_seconds: self.prior_wall + self.started.elapsed().as_secs_f64(),
            resumed_from_step: self.p.resumed_from,
            peak_rss_bytes: peak_rss_bytes(),
            output_dir: dir.display().to_string(),
        };
        summary.losses_from(&state.rows, self.config.best_by);
        // A resume with another --eval-every may not revisit a best written after its
        // checkpoint: report `best/` only when it holds the step the curve says is best.
        let best = best_dir(self.config);
        if summary.best_eval_step.is_some()
            && BestMarker::read(&best).map(|m| m.step) == summary.best_eval_step
        {
            summary.best_adapter_dir = Some(best.display().to_string());
        }
        write_summary(dir, &summary)?;
        Ok(summary)
    }
}

fn rate(tokens: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        tokens as f64 / seconds
    } else {
        0.0
    }
}
