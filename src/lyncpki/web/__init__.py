"""The web console of the CA service (/ui): web enrollment, approvals, the inventory, the
deployment dashboard, the CA's downloads."""
