//! A participant's inbox: what waits for its answer, from the flows
//! contract's state (its `inbox` query), in JSON.

use axum::extract::State;
use axum::{Extension, Json};
use billflow_contract_flows::{Inbox, Movement, Request, methods};
use billflow_types::view::{ErrorBody, InboxMovement, InboxRequest, InboxView};

use super::contracts::run_query;
use super::{Gw, contract_name};
use crate::auth::Subject;
use crate::error::ApiError;

fn request_view(r: Request) -> InboxRequest {
    InboxRequest {
        kind: r.kind.name().into(),
        id: r.id,
        bill: r.bill,
        start: r.start,
        end: r.end,
        from: r.from,
        day: r.day.to_string(),
        height: r.height,
    }
}

fn movement_view(m: Movement) -> InboxMovement {
    InboxMovement {
        kind: m.kind.name().into(),
        status: m.status.name().into(),
        request_id: m.request_id,
        amount: m.amount,
        debit: m.debit.owner,
        credit: m.credit.owner,
        day: m.day.to_string(),
    }
}

/// The caller's inbox
///
/// What waits for the signer's answer, from the flows contract's state:
/// requests it must sign, refuse or approve (today's; a request expires at
/// the end of its business day) and, for a bank, the fund movements it must
/// report. Participants' keys.
#[utoipa::path(
    get,
    path = "/v1/inbox",
    tag = "contracts",
    responses(
        (status = 200, description = "What waits for the caller.", body = InboxView),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 404, description = "No flows contract is deployed.", body = ErrorBody),
        (status = 422, description = "The signer is not a participant (`E_NOT_AUTHORISED`).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn inbox(State(gw): Gw, Extension(subject): Extension<Subject>) -> Result<Json<InboxView>, ApiError> {
    subject.require()?;
    let Subject::Key { key_id, .. } = &subject else { return Err(ApiError::internal("a signed request has a key")) };
    let name = contract_name("flows".into())?;
    if gw.chain.contract(&name)?.is_none() {
        return Err(ApiError::not_found("no flows contract is deployed"));
    }
    let args = borsh::to_vec(&()).map_err(ApiError::internal)?;
    let output = run_query(gw.chain.clone(), Some(key_id.clone()), name, methods::INBOX.into(), args).await?;
    let inbox: Inbox = borsh::from_slice(&output).map_err(|e| ApiError::internal(format!("inbox: {e}")))?;
    Ok(Json(InboxView {
        requests: inbox.requests.into_iter().map(request_view).collect(),
        movements: inbox.movements.into_iter().map(movement_view).collect(),
    }))
}
