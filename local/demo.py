"""First start of `make run`: a demo user (in the staff group) and a few demo images made with
Pillow through the catalog core. Prints the demo login. Idempotent."""

from __future__ import annotations

import io

import boto3
from PIL import Image, ImageDraw

from common.config import get_config
from images import catalog

DEMO_USERNAME = "demo"
# A local-only password for the emulator's demo user; it exists nowhere else.
DEMO_PASSWORD = "Demo-pass-1"
DEMO_IMAGES = [
    ("Red sunset over the harbour", "Boats coming home", "sunset,harbour,sea", "Ana Díaz", "2024-05-17", (220, 90, 40)),
    ("Green hills in spring", "Walk above the village", "hills,spring", "Ben Ode", "2023-04-02", (70, 160, 80)),
    ("Blue lake at noon", "Still water", "lake,summer", "Ana Díaz", "2023-07-21", (40, 110, 200)),
]


def _picture(color: tuple[int, int, int], label: str) -> bytes:
    image = Image.new("RGB", (800, 533), color)
    draw = ImageDraw.Draw(image)
    for i in range(0, 800, 40):
        draw.line([(i, 533), (i + 200, 0)], fill=tuple(min(255, c + 40) for c in color), width=8)
    draw.rectangle([30, 440, 770, 500], fill=(255, 255, 255))
    draw.text((45, 462), label, fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def ensure_demo() -> bool:
    """Create the demo user and images unless the user exists; True if created."""
    config = get_config()
    cognito = boto3.client("cognito-idp", region_name=config.aws_region)
    try:
        cognito.admin_get_user(UserPoolId=config.cognito_user_pool_id, Username=DEMO_USERNAME)
        return False
    except cognito.exceptions.UserNotFoundException:
        pass
    user = cognito.admin_create_user(
        UserPoolId=config.cognito_user_pool_id, Username=DEMO_USERNAME, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "demo@example.com"}, {"Name": "email_verified", "Value": "true"}],
    )["User"]
    cognito.admin_set_user_password(
        UserPoolId=config.cognito_user_pool_id, Username=DEMO_USERNAME, Password=DEMO_PASSWORD, Permanent=True
    )
    cognito.admin_add_user_to_group(
        UserPoolId=config.cognito_user_pool_id, Username=DEMO_USERNAME, GroupName=config.cognito_staff_group
    )
    sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
    owner = catalog.Actor(sub=sub, username=DEMO_USERNAME, is_staff=True)
    for title, description, keywords, author, captured, color in DEMO_IMAGES:
        meta = catalog.validate_meta(
            title=title, description=description, keywords=keywords, author=author, capture_date=captured
        )
        catalog.image_create(owner=owner, meta=meta, data=_picture(color, title), original_filename=f"{title}.jpg")
    return True


if __name__ == "__main__":
    ensure_demo()
    print(f"  demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}  (staff)")
