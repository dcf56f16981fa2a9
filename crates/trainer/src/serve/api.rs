//! The HTTP routes: health, the run list, translation, metrics and the page. Handlers check
//! and tokenize requests, then wait on the run's worker; they never run the model themselves.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::oneshot;

use super::batching::Job;
use super::error::{ApiError, json_response};
use super::limits::Limits;
use super::metrics::Metrics;
use super::page;
use super::response::{TranslateRequest, TranslateResponse, line_result};
use super::runs::LoadedRun;

/// What every handler shares.
pub struct AppState {
    /// Served runs, in listing order.
    pub runs: Vec<LoadedRun>,
    /// Request limits.
    pub limits: Limits,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Test hook: a request with a line equal to this fails inside the model call.
    pub fault_text: Option<String>,
}

impl AppState {
    fn run(&self, name: &str) -> Result<&LoadedRun, ApiError> {
        self.runs
            .iter()
            .find(|r| r.info.name == name)
            .ok_or_else(|| {
                // The requested name is not repeated: the answer only lists what exists.
                let names: Vec<&str> = self.runs.iter().map(|r| r.info.name.as_str()).collect();
                ApiError::not_found(format!(
                    "unknown run; this server has: {}",
                    names.join(", ")
                ))
            })
    }
}

/// The server's routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/app.css", get(page::style))
        .route("/health", get(health))
        .route("/api/runs", get(runs))
        .route("/api/translate", post(translate))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

async fn count(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    state.metrics.request(&path, response.status().as_u16());
    response
}

async fn health() -> Response {
    json_response(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}

async fn runs(State(state): State<Arc<AppState>>) -> Response {
    let runs: Vec<_> = state.runs.iter().map(|r| &r.info).collect();
    json_response(StatusCode::OK, &serde_json::json!({ "runs": runs }))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see GET /api/runs and POST /api/translate")
}

async fn translate(State(state): State<Arc<AppState>>, body: Body) -> Result<Response, ApiError> {
    let start = Instant::now();
    let limit = state.limits.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::too_large(format!("the request body is larger than {limit} bytes"))
    })?;
    let request: TranslateRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON request: {e}")))?;
    let run = state.run(&request.run)?;
    let limits = &state.limits;
    let search = request.search();
    limits.check_search(&search)?;
    limits.check_lines(&request.text)?;
    let mut sources = Vec::with_capacity(request.text.len());
    for (i, line) in request.text.iter().enumerate() {
        let ids = run.tokenizers.src.encode(line);
        limits.check_tokens(i, ids.len(), run.max_len)?;
        sources.push(ids);
    }
    let inject_panic = state
        .fault_text
        .as_ref()
        .is_some_and(|f| request.text.iter().any(|l| l == f));
    let (reply, answer) = oneshot::channel();
    run.worker.submit(Job {
        sources: sources.clone(),
        search,
        reply,
        inject_panic,
    })?;
    let hyps = match tokio::time::timeout(limits.timeout, answer).await {
        Err(_) => {
            return Err(ApiError::unavailable(format!(
                "the translation did not finish within the server's limit of {} ms",
                limits.timeout.as_millis()
            )));
        }
        Ok(Err(_)) => {
            return Err(ApiError::internal(
                "the translation worker of this run stopped",
            ));
        }
        Ok(Ok(Err(reason))) => return Err(ApiError::internal(reason)),
        Ok(Ok(Ok(hyps))) => hyps,
    };
    let results = request
        .text
        .iter()
        .zip(&sources)
        .zip(&hyps)
        .map(|((line, ids), hyps)| line_result(&run.tokenizers, line, ids, hyps))
        .collect();
    let elapsed = start.elapsed();
    state.metrics.latency(&run.info.name, elapsed);
    let response = TranslateResponse {
        run: run.info.name.clone(),
        results,
        elapsed_ms: elapsed.as_secs_f64() * 1000.0,
    };
    Ok(json_response(StatusCode::OK, &response))
}
