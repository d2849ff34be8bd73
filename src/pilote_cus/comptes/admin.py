from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Association, Collectivite, Implantation, Organisme, Utilisateur


@admin.register(Utilisateur)
class UtilisateurAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "departement", "region", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,  # type: ignore[misc]
        (
            "Rôle et périmètre",
            {"fields": ("role", "organismes", "departement", "region", "collectivite", "association")},
        ),
    )


admin.site.register(Organisme)
admin.site.register(Implantation)
admin.site.register(Collectivite)
admin.site.register(Association)
admin.site.site_header = "Pilote CUS — administration"
