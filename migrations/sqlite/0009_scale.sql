-- National scale (a Caf network or the whole country on one instance: ~1,200 plans, ~240,000
-- fiches, ~15 million measurements, ~100,000 structures). Indexes for the lookups that would
-- otherwise read a whole large table: the foreign keys whose parent row can be deleted (ON
-- DELETE CASCADE / SET NULL scan the child table), and the reverse lookups of the directory
-- (the fiches a structure pilots or partners, what concerns a commune).

-- The national roll-up reads every live node by plan (plan_id, id, parent_id, archived): from
-- this index alone, already in order, without reading the nodes' texts; a plan's dashboard
-- reads its nodes in id order.
CREATE INDEX nodes_by_plan_id ON nodes(plan_id, id, parent_id, archived);

-- Deleting or anonymising a user: measurements (15 M rows), comments and attendance by user.
CREATE INDEX measurements_by_user ON measurements(entered_by);
CREATE INDEX comments_by_user ON comments(user_id);
CREATE INDEX attendance_by_user ON attendance(user_id);
CREATE INDEX instance_members_by_user ON instance_members(user_id);

-- A structure's page and its deletion: the fiches it pilots, partners or funds, the plans it
-- signs, the networks and instances it belongs to.
CREATE INDEX fiche_pilots_by_actor ON fiche_pilots(actor_id);
CREATE INDEX fiche_partners_by_actor ON fiche_partners(actor_id);
CREATE INDEX budget_lines_by_funder ON budget_lines(funder_actor_id);
CREATE INDEX plan_signatories_by_actor ON plan_signatories(actor_id);
CREATE INDEX network_members_by_actor ON network_members(actor_id);
CREATE INDEX actors_by_kind ON actors(kind);

-- A commune or an EPCI: the plans over it, the fiches and needs that name it.
CREATE INDEX plan_territory_by_code ON plan_territory(scope, code);
CREATE INDEX fiche_communes_by_commune ON fiche_communes(commune);
CREATE INDEX need_communes_by_commune ON need_communes(commune);

-- Governance items pointing at a fiche (ON DELETE SET NULL when the fiche goes).
CREATE INDEX agenda_items_by_node ON agenda_items(node_id);
CREATE INDEX decisions_by_node ON decisions(node_id);

-- The plan an audit entry belongs to (NULL: none, or not recorded). At national scale the
-- audit log holds every write of every plan (millions of rows: each measurement entered is
-- audited), and a plan's "what changed" must not read the whole country's period: it reads
-- its own plan's entries through this index. The generator fills it; the writer of the audit
-- log (audit.c) is to fill it from the entity (see bench/README.md, national).
ALTER TABLE audit_log ADD COLUMN plan_id INTEGER;
CREATE INDEX audit_by_plan ON audit_log(plan_id, at);
