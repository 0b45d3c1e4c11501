-- The plan of each audit entry (audit_log.plan_id, added by 0009): audit.c fills it on every
-- write (audit_plan_of); this fills it for the entries written before, from the rows that still
-- exist (one indexed lookup per entry through audit_by_entity and primary keys). Entries of rows
-- deleted before this migration keep NULL, except those of a plan itself.
UPDATE audit_log SET plan_id = CAST(entity_id AS INTEGER)
WHERE plan_id IS NULL AND entity IN ('plan', 'plan_member', 'spiral_plan')
  AND EXISTS (SELECT 1 FROM plans p WHERE p.id = CAST(audit_log.entity_id AS INTEGER));
UPDATE audit_log SET plan_id = (SELECT n.plan_id FROM nodes n
  WHERE n.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity IN ('node', 'fiche');
UPDATE audit_log SET plan_id = (SELECT n.plan_id FROM comments c JOIN nodes n ON n.id = c.node_id
  WHERE c.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'comment';
UPDATE audit_log SET plan_id = (SELECT x.plan_id FROM proposals x
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'proposal';
UPDATE audit_log SET plan_id = (SELECT n.plan_id FROM fiche_indicators fi
  JOIN nodes n ON n.id = fi.node_id WHERE fi.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'fiche_indicator';
UPDATE audit_log SET plan_id = (SELECT n.plan_id FROM measurements m
  JOIN fiche_indicators fi ON fi.id = m.fiche_indicator_id JOIN nodes n ON n.id = fi.node_id
  WHERE m.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'measurement';
UPDATE audit_log SET plan_id = (SELECT x.plan_id FROM tags x
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'tag';
UPDATE audit_log SET plan_id = (SELECT x.plan_id FROM instances x
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'instance';
UPDATE audit_log SET plan_id = (SELECT i.plan_id FROM instance_members x
  JOIN instances i ON i.id = x.instance_id WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'instance_member';
UPDATE audit_log SET plan_id = (SELECT i.plan_id FROM meetings x
  JOIN instances i ON i.id = x.instance_id WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'meeting';
UPDATE audit_log SET plan_id = (SELECT i.plan_id FROM agenda_items x
  JOIN meetings m ON m.id = x.meeting_id JOIN instances i ON i.id = m.instance_id
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'agenda_item';
UPDATE audit_log SET plan_id = (SELECT i.plan_id FROM attendance x
  JOIN meetings m ON m.id = x.meeting_id JOIN instances i ON i.id = m.instance_id
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'attendance';
UPDATE audit_log SET plan_id = (SELECT i.plan_id FROM decisions x
  JOIN meetings m ON m.id = x.meeting_id JOIN instances i ON i.id = m.instance_id
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'decision';
UPDATE audit_log SET plan_id = (SELECT i.plan_id FROM follow_ups x
  JOIN meetings m ON m.id = x.meeting_id JOIN instances i ON i.id = m.instance_id
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'follow_up';
UPDATE audit_log SET plan_id = (SELECT x.plan_id FROM spiral_workshops x
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity IN ('spiral_workshop', 'spiral_criteria');
UPDATE audit_log SET plan_id = (SELECT w.plan_id FROM spiral_criteria x
  JOIN spiral_workshops w ON w.id = x.workshop_id WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'spiral_criterion';
UPDATE audit_log SET plan_id = (SELECT x.plan_id FROM spiral_component_links x
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'spiral_component_link';
UPDATE audit_log SET plan_id = (SELECT x.plan_id FROM grid_frameworks x
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'grid_framework';
UPDATE audit_log SET plan_id = (SELECT f.plan_id FROM grid_items x
  JOIN grid_frameworks f ON f.id = x.framework_id WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'grid_item';
UPDATE audit_log SET plan_id = (SELECT x.plan_id FROM grid_campaigns x
  WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'grid_campaign';
UPDATE audit_log SET plan_id = (SELECT c.plan_id FROM grid_campaign_actors x
  JOIN grid_campaigns c ON c.id = x.campaign_id WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'grid_campaign_actor';
UPDATE audit_log SET plan_id = (SELECT c.plan_id FROM grid_assessments x
  JOIN grid_campaigns c ON c.id = x.campaign_id WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'grid_assessment';
UPDATE audit_log SET plan_id = (SELECT c.plan_id FROM grid_testimonies x
  JOIN grid_campaigns c ON c.id = x.campaign_id WHERE x.id = CAST(audit_log.entity_id AS INTEGER))
WHERE plan_id IS NULL AND entity = 'grid_testimony';
