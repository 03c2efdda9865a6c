"""NAS (Concentradores): changes reach the RADIUS workers without a restart."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from aaa.nas import service as nas_service
from admin_api.deps import db
from admin_api.presenters import nas_out, nas_page
from admin_api.routes.common import Limit, Offset, PathId
from admin_api.schemas.common import Page
from admin_api.schemas.nas import NasIn, NasOut, NasPatch, SecretIn

router = APIRouter(tags=["nas"])


@router.get("/nas", response_model=Page[NasOut])
def list_nas(limit: Limit = 50, offset: Offset = 0, session: Session = db("nas.read")) -> Page[NasOut]:
    rows, total = nas_service.page_nas(session, limit=limit, offset=offset)
    return Page(items=nas_page(session, rows), total=total, limit=limit, offset=offset)


@router.post("/nas", response_model=NasOut, status_code=201)
def create_nas(body: NasIn, session: Session = db("nas.write")) -> NasOut:
    nas = nas_service.add_nas(session, **body.model_dump())
    return nas_out(nas, secret=nas.secret)


@router.get("/nas/{nas_id}", response_model=NasOut)
def get_nas(nas_id: PathId, session: Session = db("nas.read")) -> NasOut:
    """The NAS, with what the RADIUS workers saw of it: last request, last drop and its cause."""
    return nas_out(nas_service.get_nas(session, nas_id), session=session)


@router.patch("/nas/{nas_id}", response_model=NasOut)
def update_nas(nas_id: PathId, body: NasPatch, session: Session = db("nas.write")) -> NasOut:
    nas = nas_service.get_nas(session, nas_id)
    return nas_out(nas_service.update_nas(session, nas, **body.model_dump(exclude_unset=True)))


@router.post("/nas/{nas_id}/rotate-secret", response_model=NasOut)
def rotate_secret(nas_id: PathId, body: SecretIn, session: Session = db("nas.write")) -> NasOut:
    """Set a new shared secret (shown once). Configure the same one on the NAS right away."""
    nas = nas_service.get_nas(session, nas_id)
    secret = nas_service.rotate_secret(session, nas, body.secret, body.allow_short_secret)
    return nas_out(nas, secret=secret)


@router.delete("/nas/{nas_id}", status_code=204)
def delete_nas(nas_id: PathId, session: Session = db("nas.write")) -> None:
    nas_service.delete_nas(session, nas_service.get_nas(session, nas_id))
