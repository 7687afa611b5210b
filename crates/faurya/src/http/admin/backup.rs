//! `GET /api/backup`: a consistent snapshot of the live database, downloaded (Settings →
//! "Download backup"). Secrets inside stay sealed; the master key is not part of it.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/backup", get(download))
}

async fn download(State(state): State<AppState>) -> Result<Response, ApiError> {
    let db = state.store.path().to_path_buf();
    // Written next to the database (same disk, owner-only folder), streamed, then gone.
    let temp = db.with_extension(format!("db.download-{}", crate::store::now_ms()));
    let written = {
        let (db, temp) = (db.clone(), temp.clone());
        tokio::task::spawn_blocking(move || crate::backup::backup(&db, &temp))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    let summary = written.map_err(|e| ApiError::Internal(format!("backup: {e}")))?;
    let file = tokio::fs::File::open(&temp).await.map_err(|e| ApiError::Internal(format!("backup: {e}")))?;
    // The open file stays readable; the name goes now so nothing is left behind.
    let _ = tokio::fs::remove_file(&temp).await;
    let name = format!("faurya-backup-{}.db", jiff::Timestamp::now().strftime("%Y-%m-%d-%H%M%S"));
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.sqlite3".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CONTENT_LENGTH, summary.bytes.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}
