"""/api/v1/abuse: a decision for one login, security change or order from the online state (decision, score,
typology, reasons), the case queue grouped by ring and seller, resolving a case, and an account's ring."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from niaga.abuse.online import epoch_seconds
from niaga.abuse.service import AbuseService
from niaga.modeling import load_model

router = APIRouter(prefix="/abuse", tags=["abuse"])
MODEL_NAME = "marketplace"  # the registry name of the served abuse model


class Login(BaseModel):
    account_id: str = Field(min_length=1, max_length=100)
    time: str = Field(min_length=1, max_length=40, description="ISO date-time (WIB without an offset)")
    success: bool
    ip: str | None = Field(None, max_length=64)
    device_id: str | None = Field(None, max_length=100)
    otp: bool = False

    model_config = {"json_schema_extra": {"examples": [
        {"account_id": "acc0100014", "time": "2026-12-01 10:00:00", "success": True, "ip": "36.1.2.3",
         "device_id": "dev-new", "otp": False}]}}


class Change(BaseModel):
    account_id: str = Field(min_length=1, max_length=100)
    time: str = Field(min_length=1, max_length=40)
    field: str = Field(min_length=1, max_length=40, description="password, phone, email, address, bank_account, "
                                                                "payout_account")
    device_id: str | None = Field(None, max_length=100)
    ip: str | None = Field(None, max_length=64)

    model_config = {"json_schema_extra": {"examples": [
        {"account_id": "acc0100014", "time": "2026-12-01 10:20:00", "field": "phone", "device_id": "dev-new"}]}}


class Order(BaseModel):
    order_id: str = Field(min_length=1, max_length=100)
    account_id: str = Field(min_length=1, max_length=100)
    seller_id: str = Field(min_length=1, max_length=100)
    time: str = Field(min_length=1, max_length=40)
    amount: int = Field(ge=0, le=10**12)
    voucher_amount: int = Field(0, ge=0, le=10**12)
    shipping_address: str | None = Field(None, max_length=300)
    payment_account: str | None = Field(None, max_length=100)
    device_id: str | None = Field(None, max_length=100)
    category: str | None = Field(None, max_length=60)

    model_config = {"json_schema_extra": {"examples": [
        {"order_id": "ORD-demo-1", "account_id": "acc0100014", "seller_id": "shop005003", "time": "2026-12-01 11:00:00",
         "amount": 2500000, "voucher_amount": 0, "shipping_address": "Jl. Mawar No. 5, Bandung",
         "payment_account": "pay-demo", "device_id": "dev-new", "category": "electronics"}]}}


class Decision(BaseModel):
    decision: Literal["approve", "otp", "review", "block"]
    score: float
    typology: str | None
    reasons: list[str]


class Case(BaseModel):
    case_id: str
    kind: str
    typology: str | None
    score: float
    decision: str
    members: list[str]
    sellers: list[str]
    reasons: str
    resolution: str | None


class Resolution(BaseModel):
    verdict: Literal["abuse", "not_abuse"]
    note: str = Field("", max_length=500)

    model_config = {"json_schema_extra": {"examples": [{"verdict": "not_abuse", "note": "a kos: tenants confirmed"}]}}


class Ring(BaseModel):
    ring_id: str | None
    accounts: list[str]
    links: list[dict]


def service(services) -> AbuseService:
    def load(path):
        return AbuseService(load_model(path, task="abuse"),
                            resolutions=services.settings.store.parent / "abuse_resolutions.csv")

    return services.model("abuse", MODEL_NAME, load)


def _answer(decision) -> Decision:
    return Decision(decision=decision.decision, score=round(decision.score, 4), typology=decision.typology,
                    reasons=decision.reasons)


def login(services, event: Login) -> Decision:
    return _answer(service(services).online.login(event.account_id, epoch_seconds(event.time), event.success,
                                                  event.ip, event.device_id, event.otp))


def change(services, event: Change) -> Decision:
    return _answer(service(services).online.change(event.account_id, epoch_seconds(event.time), event.field,
                                                   event.device_id, event.ip))


def order(services, event: Order) -> Decision:
    return _answer(service(services).online.order(
        event.account_id, event.seller_id, epoch_seconds(event.time), event.amount, event.voucher_amount,
        event.shipping_address, event.payment_account, event.device_id, event.category))


def cases(services, status: str = "open", limit: int = 50) -> list[Case]:
    return [Case(**c) for c in service(services).cases(status, limit)]


@router.post("/login", summary="decide on one login attempt (approve, otp, block) from the online state")
def login_endpoint(request: Request, event: Login) -> Decision:
    return login(request.app.state.services, event)


@router.post("/change", summary="decide on one change of a security field (password, phone, e-mail, address ...)")
def change_endpoint(request: Request, event: Change) -> Decision:
    return change(request.app.state.services, event)


@router.post("/order", summary="decide on one checkout (approve, otp, review, block) from the online state")
def order_endpoint(request: Request, event: Order) -> Decision:
    return order(request.app.state.services, event)


@router.get("/cases", summary="the case queue: rings, sellers and accounts the batch scorer sent to review or block")
def cases_endpoint(request: Request, status: Literal["open", "resolved", "all"] = "open",
                   limit: int = Query(50, ge=1, le=1000)) -> list[Case]:
    return cases(request.app.state.services, status, limit)


@router.post("/cases/{case_id}/resolve", summary="resolve a case of the queue (ring-N, account:ID, seller:ID), or "
                                                "any account or seller, as abuse or not abuse")
def resolve_endpoint(request: Request, resolution: Resolution,
                     case_id: str = Path(min_length=1, max_length=200, examples=["account:acc0100014"])) -> dict:
    return service(request.app.state.services).resolve(case_id, resolution.verdict, resolution.note)


@router.get("/accounts/{account_id}/ring", summary="the ring an account belongs to, and what links its accounts")
def account_ring_endpoint(request: Request,
                          account_id: str = Path(min_length=1, max_length=100, examples=["acc0100014"])) -> Ring:
    return Ring(**service(request.app.state.services).account_ring(account_id))
