"""Dashboards through the official client (§4.4): tenant and customer lists, get, save, assign, delete."""

from __future__ import annotations

import pytest
from tb_ce_client.exceptions import ApiException
from tb_ce_client.models.dashboard import Dashboard

from tests.tbserver.clients import CUSTOMER, TENANT, official, page_all


def test_tenant_pages_all_dashboards(tenant):
    pages = list(page_all(tenant.get_tenant_dashboards, page_size=2, sort_property="title"))
    titles = [d.title for p in pages for d in p.data]
    assert len(titles) == pages[0].total_elements >= 5 and len(pages) == pages[0].total_pages
    assert titles == sorted(titles)
    thermostats = next(d for p in pages for d in p.data if d.title == "Thermostats")
    assert [c.title for c in thermostats.assigned_customers] == ["Customer A"]
    assert thermostats.assigned_customers[0].public is False


def test_customer_sees_its_assigned_dashboards(tb_server):
    client = official(tb_server.url, CUSTOMER)
    customer_id = str(client.get_user().customer_id.id)
    dashboards = client.get_customer_dashboards(customer_id, page_size=10, page=0)
    titles = {d.title for d in dashboards.data}
    assert {"Thermostats", "Sensor overview"} <= titles and not titles & {"Gateways", "Firmware"}
    assert all(customer_id in {str(c.customer_id.id) for c in d.assigned_customers} for d in dashboards.data)
    full = client.get_dashboard_by_id(str(dashboards.data[0].id.id))
    assert isinstance(full.configuration, dict)
    hidden = next(d for d in official(tb_server.url, TENANT).get_tenant_dashboards(page_size=10, page=0).data
                  if d.title == "Gateways")
    with pytest.raises(ApiException) as info:
        client.get_dashboard_by_id(str(hidden.id.id))
    assert info.value.status == 403


def test_save_assign_and_delete_a_dashboard(tenant):
    saved = tenant.save_dashboard(Dashboard(title="Conformance board", configuration={"widgets": {"w1": {}}}))
    dashboard_id = str(saved.id.id)
    assert saved.name == "Conformance board" and saved.assigned_customers is None
    info = tenant.get_dashboard_info_by_id(dashboard_id)
    assert info.title == "Conformance board"
    assert tenant.get_dashboard_by_id(dashboard_id).configuration == {"widgets": {"w1": {}}}
    customer_c = next(c for c in tenant.get_customers(page_size=10, page=0).data if c.title == "Customer C")
    assigned = tenant.assign_dashboard_to_customer(str(customer_c.id.id), dashboard_id)
    assert [c.title for c in assigned.assigned_customers] == ["Customer C"]
    listed = tenant.get_customer_dashboards(str(customer_c.id.id), page_size=10, page=0)
    assert dashboard_id in {str(d.id.id) for d in listed.data}
    unassigned = tenant.unassign_dashboard_from_customer(str(customer_c.id.id), dashboard_id)
    assert unassigned.assigned_customers == []
    tenant.delete_dashboard(dashboard_id)
    with pytest.raises(ApiException) as info:
        tenant.get_dashboard_info_by_id(dashboard_id)
    assert info.value.status == 404


def test_dashboard_update_bumps_version_and_stale_version_conflicts(tenant):
    created = tenant.save_dashboard(Dashboard(title="Conformance versions"))
    created.title = "Conformance versions, renamed"
    updated = tenant.save_dashboard(created)
    assert updated.version == created.version + 1 and updated.title == "Conformance versions, renamed"
    created.title = "stale"
    with pytest.raises(ApiException) as info:
        tenant.save_dashboard(created)  # still carries the first version
    assert info.value.status == 409
    tenant.delete_dashboard(str(created.id.id))


def test_customers_and_users_lists(tenant):
    customers = tenant.get_customers(page_size=10, page=0, sort_property="title", sort_order="DESC")
    titles = [c.title for c in customers.data]
    assert titles == sorted(titles, reverse=True)
    assert [t for t in titles if t.startswith("Customer ")] == ["Customer C", "Customer B", "Customer A"]
    customer_a = next(c for c in customers.data if c.title == "Customer A")
    users = tenant.get_customer_users(str(customer_a.id.id), page_size=10, page=0)
    assert {u.email for u in users.data} == {"customer@thingsboard.org", "customerA@thingsboard.org"}
    one = tenant.get_user_by_id(str(users.data[0].id.id))
    assert one.authority.value == "CUSTOMER_USER"
