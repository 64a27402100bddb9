-- Listings that grow with what the caller may see, not with the firm (issue 14). A listing for
-- someone without an oversight role reads only the records reached through their own grounds
-- (matters they lead, matters of teams they lead, matters they are staffed on, their open
-- break-glass accesses, clients they are responsible for): these indexes let the database find
-- those rows without walking the firm. The staffing tables themselves are the permission index:
-- every change to them is in the same transaction as the change, and every decision is still
-- made per record on facts read in the listing's own transaction.
CREATE INDEX matters_lead ON matters(lead_id);
CREATE INDEX matters_team ON matters(team_id);
CREATE INDEX teams_lead ON teams(lead_id);
CREATE INDEX clients_responsible ON clients(responsible_id);
