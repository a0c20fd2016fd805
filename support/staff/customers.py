"""A customer's personal data from the ticket page: export and erasure (admins; erasure after
typing the address). The work is the desk's: ``support.desk.privacy``.

An export answers a customer's request for their data, so it holds all of it: every
department's tickets and internal notes. That is more than a lead may read (their own
departments' mail), so exporting is an admin's task like erasing."""

from __future__ import annotations

import logging

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from support.auth import role_required
from support.auth import signed_in_user as _user
from support.core.db import db_session
from support.core.web import id_or_none
from support.desk import privacy
from support.desk.access import can_see_customer
from support.desk.models import Customer, Ticket
from support.staff.blueprints import bp

log = logging.getLogger(__name__)


class EraseForm(FlaskForm):
    confirm = StringField()


def _customer_or_404(customer_id: int) -> Customer:
    """The customer, if the user may see them (``support.desk.access.can_see_customer``)."""
    session = db_session()
    customer = session.get(Customer, customer_id)
    if customer is None or not can_see_customer(session, _user(), customer):
        abort(404)
    return customer


@bp.get("/customers/<int:customer_id>/export")
@role_required("admin")
def customer_export(customer_id: int) -> Response:
    customer = _customer_or_404(customer_id)
    data = privacy.export_customer(db_session(), customer, privacy.parts_of(current_app))
    log.info("customer %s exported by staff %s", customer.id, _user().id)
    return Response(
        privacy.export_json(data),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="customer-{customer.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/customers/<int:customer_id>/erase", methods=["GET", "POST"])
@role_required("admin")
def customer_erase(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = EraseForm()
    back = id_or_none(request.args.get("ticket"))
    if customer.erased_at is not None:
        flash(_("This customer's personal data has already been erased."), "info")
    elif form.validate_on_submit():
        typed = (form.confirm.data or "").strip().lower()
        if typed != customer.email.strip().lower():
            flash(_("Type the customer's email address exactly to confirm."), "error")
        else:
            counts = privacy.erase_customer(
                db_session(),
                customer,
                privacy.parts_of(current_app),
                instance_path=current_app.instance_path,
                actor=_user(),
            )
            flash(
                _(
                    "The customer's personal data was erased (%(messages)s messages).",
                    messages=counts.get("messages", 0),
                ),
                "info",
            )
            if back:
                return redirect(url_for("staff.ticket_page", ticket_id=back))
            return redirect(url_for("staff.inbox"))
    tickets = db_session().scalar(
        select(Ticket.id).where(Ticket.customer_id == customer.id).limit(1)
    )
    return render_template(
        "staff/customer_erase.html",
        customer=customer,
        form=form,
        back=back,
        has_tickets=tickets is not None,
    )
