#!/usr/bin/env python3
"""Regenerate the example content (content/images/ and content/catalog.csv) from OpenClipart.

Source: the Debian package ``openclipart-png`` (1:0.18+dfsg-19), installed under
/usr/share/openclipart/png (``apt-get install openclipart-png``). OpenClipart images are
dedicated to the public domain; see /usr/share/doc/openclipart-png/copyright.

Usage (from the repository root)::

    python content/_tools/make_catalog.py            # writes content/images/ and content/catalog.csv
    python content/_tools/make_catalog.py --size 192 # smaller images if the content folder gets too big

Needs only the standard library and Pillow. The output is deterministic: the selection below is
hand-curated and fixed, PNGs are written without metadata chunks or timestamps, and every row gets
the same fixed date (see DATE). Running it twice gives byte-identical files.

This file is a tool for maintainers; nothing in the ``sitegen`` package imports it.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import shutil
import sys
from pathlib import Path

from PIL import Image

SOURCE_ROOT = Path("/usr/share/openclipart/png")
CONTENT = Path(__file__).resolve().parent.parent  # .../content
DEFAULT_SIZE = 256

# Every file in openclipart-png 1:0.18+dfsg-19 carries the same modification time (2020-07-06, the
# day the package was built), so it says nothing about when an image was made. The brief's fallback
# is a fixed date, which keeps the catalogue deterministic.
DATE = "2010-01-01"

# category display name -> (folder / id prefix, keyword added to every row)
CATEGORIES = {
    "Food": ("food", "food"),
    "Animals": ("animals", "animal"),
    "Plants": ("plants", "plant"),
    "People": ("people", "people"),
    "Transportation": ("transportation", "transportation"),
    "Buildings": ("buildings", "building"),
    "Sports & Recreation": ("sports", "recreation"),
    "Music": ("music", "music"),
    "Holidays": ("holidays", "holiday"),
    "Household": ("household", "household"),
}

# Synonyms added (after the title's own words and the line's extra keywords) when a title word matches.
SYNONYMS = {
    "apple": ["fruit"], "banana": ["fruit"], "bananas": ["banana", "fruit"], "cherry": ["fruit"],
    "cherries": ["cherry", "fruit"], "grapes": ["grape", "fruit"], "lemon": ["citrus", "fruit"],
    "lime": ["citrus", "fruit"], "orange": ["citrus", "fruit"], "pear": ["fruit"], "peach": ["fruit"],
    "pineapple": ["tropical fruit", "fruit"], "strawberry": ["berry", "fruit"], "watermelon": ["melon", "fruit"],
    "tomatoes": ["tomato", "vegetable"], "carrot": ["vegetable"], "corn": ["maize", "vegetable"],
    "radishes": ["radish", "vegetable"], "peppers": ["pepper", "spicy", "vegetable"], "onion": ["vegetable"],
    "pumpkin": ["squash", "autumn"], "bread": ["bakery", "loaf"], "croissant": ["pastry", "bakery", "breakfast"],
    "muffin": ["bakery", "baked goods"], "pancakes": ["pancake", "breakfast"], "cheese": ["dairy"],
    "ice cream": ["dessert", "sweet"], "pie": ["dessert", "baking"], "cake": ["dessert", "sweet"],
    "lollipop": ["candy", "sweet"], "hamburger": ["burger", "fast food"], "burger": ["hamburger", "fast food"],
    "hot dog": ["sausage", "fast food"], "fries": ["french fries", "fast food"], "pizza": ["italian food", "fast food"],
    "spaghetti": ["pasta", "italian food"], "egg": ["breakfast"], "sandwich": ["lunch"],
    "coffee": ["drink", "beverage"], "tea": ["drink", "beverage"], "teacup": ["tea", "drink"],
    "teapot": ["tea", "kitchen"], "milk": ["drink", "dairy"], "lemonade": ["drink", "beverage"],
    "cat": ["kitten", "pet", "feline"], "cats": ["cat", "kitten", "pet"], "kitten": ["cat", "pet"],
    "dog": ["puppy", "pet", "canine"], "puppy": ["dog", "pet"], "beagle": ["dog", "puppy", "pet"],
    "labrador": ["dog", "pet"], "bulldog": ["dog", "pet"], "horse": ["pony", "equine"],
    "bear": ["wildlife"], "tiger": ["big cat", "wildlife"], "lion": ["big cat", "wildlife"],
    "elephant": ["wildlife", "safari"], "monkey": ["ape", "jungle"], "owl": ["bird", "night"],
    "eagle": ["bird", "bird of prey"], "rooster": ["chicken", "bird", "farm"], "puffin": ["bird", "seabird"],
    "penguin": ["bird"], "flamingo": ["bird"], "swan": ["bird"], "duck": ["bird"], "ladybug": ["insect", "bug"],
    "butterfly": ["insect"], "bee": ["insect", "honey bee"], "caterpillar": ["insect", "bug"],
    "snail": ["garden"], "dolphin": ["sea", "ocean"], "seahorse": ["sea", "ocean"], "fish": ["sea", "aquarium"],
    "frog": ["amphibian", "toad"], "dinosaur": ["prehistoric", "dino"], "stegosaurus": ["dinosaur", "prehistoric"],
    "pterodactyl": ["dinosaur", "prehistoric"], "triceratops": ["dinosaur", "prehistoric"],
    "pig": ["farm animal"], "cow": ["farm animal"], "sheep": ["lamb", "farm animal"], "rabbit": ["bunny"],
    "goat": ["farm animal"], "flower": ["blossom", "floral"], "flowers": ["flower", "floral"],
    "daffodil": ["flower", "spring"], "daisy": ["flower", "spring"], "rose": ["flower", "floral"],
    "roses": ["rose", "flower"], "tulips": ["tulip", "flower", "spring"], "sunflower": ["flower", "summer"],
    "magnolia": ["flower"], "geraniums": ["geranium", "flower"], "blossom": ["flower", "spring"],
    "tree": ["nature"], "leaves": ["leaf"], "cactus": ["succulent", "desert"],
    "mushroom": ["fungus"], "toadstool": ["mushroom", "fungus"], "acorn": ["oak", "autumn"], "fern": ["nature"],
    "bamboo": ["nature"], "woman": ["lady", "person"], "man": ["person"], "girl": ["child", "person"],
    "boy": ["child", "person"], "kid": ["child", "person"], "doctor": ["medical", "occupation"],
    "nurse": ["medical", "occupation"], "chemist": ["science", "occupation"], "policewoman": ["police", "occupation"],
    "police": ["occupation", "law enforcement"], "chef": ["cook", "occupation"], "carpenter": ["occupation"],
    "painter": ["occupation"], "bride": ["wedding"], "groom": ["wedding"], "wedding": ["marriage"],
    "smiley": ["emoticon", "face"], "car": ["vehicle", "automobile"], "bus": ["vehicle", "public transport"],
    "tram": ["public transport"], "truck": ["vehicle", "lorry"], "van": ["vehicle"], "tractor": ["farm", "vehicle"],
    "forklift": ["vehicle", "warehouse"], "ambulance": ["emergency", "vehicle"], "airplane": ["plane", "aircraft"],
    "jet": ["plane", "aircraft"], "plane": ["airplane", "aircraft"], "balloon": ["flight"],
    "rocket": ["space"], "sailboat": ["boat", "sailing"], "schooner": ["boat", "sailing"], "boat": ["ship"],
    "anchor": ["nautical"], "bicycle": ["bike", "cycling"], "cyclist": ["bicycle", "cycling"],
    "motorcycle": ["motorbike", "vehicle"], "sign": ["road sign", "traffic"], "house": ["home"],
    "cottage": ["house", "home"], "cabin": ["house", "home"], "chalet": ["house", "mountain"],
    "igloo": ["snow house", "winter"], "tepee": ["tent"], "lighthouse": ["coast", "nautical"],
    "castle": ["fortress", "medieval"], "church": ["chapel"], "factory": ["industry"],
    "skyscrapers": ["city", "skyline"], "barn": ["farm"], "soccer": ["football", "sports"],
    "baseball": ["sports"], "volleyball": ["sports", "ball"], "tennis": ["sports"], "golf": ["sports"],
    "chess": ["board game", "game"], "dice": ["game", "board game"], "die": ["dice", "game"],
    "teddy": ["toy"], "toy": ["kids"], "billiard": ["pool", "game"], "guitar": ["instrument", "string instrument"],
    "violin": ["fiddle", "instrument"], "cello": ["instrument", "orchestra"], "harp": ["instrument"],
    "trumpet": ["brass", "instrument"], "trombone": ["brass", "instrument"], "horn": ["brass", "instrument"],
    "flute": ["woodwind", "instrument"], "oboe": ["woodwind", "instrument"], "saxophone": ["sax", "jazz"],
    "drum": ["percussion", "instrument"], "drums": ["drum", "percussion"], "djembe": ["drum", "percussion"],
    "maracas": ["percussion", "instrument"], "xylophone": ["percussion", "instrument"],
    "piano": ["keyboard", "instrument"], "record": ["vinyl", "retro"], "records": ["vinyl", "retro"],
    "note": ["musical note"], "notes": ["musical note"], "clef": ["musical symbol"], "jukebox": ["retro"],
    "christmas": ["xmas", "winter"], "santa": ["christmas", "xmas"], "snowman": ["winter", "snow"],
    "wreath": ["christmas", "decoration"], "gift": ["present", "birthday"], "heart": ["love", "valentine"],
    "hearts": ["heart", "love", "valentine"], "easter": ["spring"], "jack-o'-lantern": ["halloween", "pumpkin"],
"turkey": ["thanksgiving"], "shamrock": ["st patrick's day", "irish", "clover"],
    "clover": ["st patrick's day", "shamrock", "luck"], "fireworks": ["celebration", "new year"],
    "balloon": ["party", "birthday"], "balloons": ["balloon", "party", "birthday"], "party": ["celebration"],
    "chair": ["furniture", "seat"], "couch": ["sofa", "furniture"], "table": ["furniture"],
    "lamp": ["light", "lighting"], "lantern": ["light", "lamp"], "clock": ["time"], "hourglass": ["time", "sand timer"],
    "hammer": ["tool", "diy"], "saw": ["tool", "woodworking"], "wrench": ["tool", "spanner"],
    "screwdriver": ["tool"], "drill": ["tool", "power tool"], "shovel": ["spade", "garden tool"],
    "rake": ["garden tool"], "trowel": ["garden tool"], "shears": ["garden tool"], "broom": ["cleaning"],
    "vacuum": ["cleaning", "appliance"], "iron": ["laundry", "appliance"], "key": ["lock", "security"],
    "padlock": ["lock", "security"], "umbrella": ["rain"], "telephone": ["phone"], "phone": ["telephone"],
    "scissors": ["cutting", "craft"], "box": ["cardboard", "packaging"], "basket": ["shopping"],
    "toothbrush": ["dental", "bathroom"], "paint": ["decorating", "diy"], "television": ["tv"],
    # two-word subjects, kept whole by title_words()
    "christmas tree": ["christmas", "xmas", "tree"], "gift box": ["gift", "present"],
    "cherry blossom": ["sakura", "flower", "spring"], "piggy bank": ["savings", "money"],
    "santa claus": ["santa", "christmas", "xmas"], "french fries": ["fries", "fast food"],
    "french horn": ["horn", "brass", "instrument"], "teddy bear": ["toy", "stuffed animal"],
    "rubber duck": ["bath toy", "toy"], "hot air balloon": ["balloon", "flight", "aircraft"],
    "eight ball": ["billiard", "pool"], "nine ball": ["billiard", "pool"], "thumbs up": ["hand", "approval"],
    "tape measure": ["measuring tape", "tool"], "spirit level": ["level", "tool"],
    "semi truck": ["truck", "lorry", "vehicle"], "party hat": ["party", "birthday"],
}

# Kept as one keyword instead of being split into words.
PHRASES = ("black and white", "ice cream", "hot dog", "jack-o'-lantern", "soft serve", "table tennis",
           "hot air balloon", "teddy bear", "rubber duck", "christmas tree", "gift box", "party hat",
           "cherry blossom", "piggy bank", "santa claus", "french fries", "french horn", "eight ball",
           "nine ball", "thumbs up", "tape measure", "spirit level", "semi truck")

STOPWORDS = {"a", "an", "the", "of", "with", "on", "and", "in", "to", "at", "for", "two", "three", "four"}

# Phrases that keep their capitals inside a sentence.
PROPER = ["Santa Claus", "Eiffel Tower", "Christmas", "Easter", "Labrador", "African", "Celtic", "French",
          "Mid-Autumn", "Four Seasons", "Give Way", "ABC"]

# ---------------------------------------------------------------------------------------------------------------
# The hand-curated selection. One line per image:
#     source path under /usr/share/openclipart/png (no .png) | Title | extra keywords (;-separated) | flags
# flags: "pl" = plural or mass noun (no "a"/"an" in the description); "the" = use "the";
#        "nosyn" = add no synonyms (the title words would mislead).
# Titles describe what the file name says, cleaned up (author names, numbers and Italian/French words
# translated away); a colour or view is added where the picture shows it, to tell siblings apart.
SELECTION = {
    "Food": """
food/fruit/apple | Red Apple
food/fruit/an_apple_01 | Red Apple With Leaf
food/fruit/another_apple_01 | Shiny Red Apple
food/fruit/applf | Cartoon Red Apple
food/apple_bitten_dan_gerhard_01 | Bitten Red Apple
food/apple_with_worm_dan_gerh_01 | Red Apple With Worm
food/fruit/apple_bw | Black and White Apple
food/fruit/apple_core_01 | Apple Core
food/fruit/banana | Yellow Banana
food/fruit/bananas_nicu_buculei_01 | Bunch of Bananas
food/fruit/cherries | Red Cherries | | pl
food/fruit/cherry_jean_victor_balin_ | Red Cherry
food/fruit/grape_01 | Bunch of Purple Grapes
food/fruit/grapes_leif_lodahl_02 | Green Grapes | | pl
food/fruit/grapes_simple | Cartoon Grapes | | pl
food/fruit/lemon | Yellow Lemon
food/fruit/lemon_whole_ganson | Whole Lemon
food/fruit/lime_slice_ganson | Lime Slice
food/fruit/orange | Orange
food/fruit/orange_simple | Orange With Leaves
food/fruit/orange_slice_jonathan_di_01 | Orange Slice
food/fruit/green_pear_01 | Green Pear
food/fruit/pear | Yellow Pear
food/fruit/strawberry | Strawberry
food/fruit/strawberry_01 | Red Strawberry
food/fruit/strawberry_jonathan_diet_01 | Strawberry With Stem
food/fruit/strawberry_simple | Cartoon Strawberry
food/fruit/watermelon_simple | Watermelon Slice
food/fruit/pineapple | Pineapple
food/pomodori_architetto_fran_01 | Red Tomatoes | | pl
food/vegetables/what_s_up_doc_01 | Carrot
food/vegetables/corn_cob | Corn on the Cob | | pl
food/vegetables/ravanello_architetto_fra_01 | Radishes | | pl
food/vegetables/peperoncino_pepper_fra_ | Red Chili Peppers | | pl
food/vegetables/onion_joerg_rosenbauer_01 | Onion
food/zucca_architetto_frances_01 | Orange Pumpkin | vegetable
food/breads_and_carbs/bread_01 | Loaf of Bread
food/breads_and_carbs/croissant_gerald_g._01 | Croissant
food/breads_and_carbs/muffin_3 | Blueberry Muffin
food/breads_and_carbs/muffin2 | Chocolate Chip Muffin
food/breads_and_carbs/pancakes_berries | Pancakes With Berries | | pl
food/dairy/cheese_01 | Wheel of Cheese
food/desserts/cone1_ganson | Ice Cream Cone | ice cream
food/desserts/cone2_ganson | Pink Ice Cream Cone | ice cream
food/desserts/cone3_ganson | Triple Scoop Ice Cream Cone | ice cream
food/desserts/cone_soft_chocolate | Chocolate Soft Serve Cone | ice cream
food/desserts/cone_soft_vanilla | Vanilla Soft Serve Cone | ice cream
food/desserts/pie_apple | Slice of Apple Pie
food/desserts/pie_cherry | Slice of Cherry Pie
food/desserts/pie_pumpkin | Slice of Pumpkin Pie
food/desserts/pink_cake_gabrielle_now_r | Pink Layer Cake
food/desserts/lollipop_dave_pena_01 | Red Lollipop
food/meats_and_eggs/hamburger_ganson | Hamburger
food/meats_and_eggs/hamburger_bw | Black and White Hamburger
food/meats_and_eggs/burger_http_www.treebui_r | Burger With Lettuce and Tomato
food/meats_and_eggs/chicken_burger | Chicken Burger
food/meats_and_eggs/hot_dog | Hot Dog
food/meats_and_eggs/hot_dog_juliane_krug_r | Hot Dog With Mustard
food/french_fries_juliane_kr_r | French Fries | | pl
food/pizza_cheese | Slice of Cheese Pizza
food/pizza_pepperoni | Slice of Pepperoni Pizza
food/pizza_slice_fco._andrade_01 | Pizza Slice
food/pizza_4_stagioni_archite_01 | Four Seasons Pizza Slice
food/spaghetti_ganson | Spaghetti With Tomato Sauce | | pl
food/sandwich_one_jean-victor_01 | Sandwich
food/meats_and_eggs/fried_egg | Fried Egg
food/beverages/coffee_ganson | Coffee Mug
food/beverages/teacup_ganson | Teacup and Saucer
food/beverages/teapot_ganson | Teapot
food/beverages/milk_ganson | Milk Carton
food/beverages/lemonade | Glass of Lemonade
""",
    "Animals": """
animals/mammals/cartoon_cat_gerald_g._01 | Cartoon Gray Cat
animals/mammals/housecats/gattina_cat_architetto_f_01 | Gray Cat on a Cushion
animals/mammals/housecats/gatto_cat_architetto_fra_01 | Black and White Cat
animals/mammals/housecats/gatto_cat_architetto_fra_03 | Gray and White Cat
animals/mammals/housecats/gatto_cat_architetto_fra_04 | Cream and Brown Cat
animals/mammals/housecats/kitten_gerald_g._01 | Black and White Kitten
animals/mammals/housecats/le_mie_tigri_preferite_a_01 | Two Tabby Cats | | pl
animals/mammals/dogs/beagle_copper_ganson | Beagle
animals/mammals/dogs/black_lab_ganson | Black Labrador
animals/mammals/dogs/bulldog_puppy_ganson | Bulldog Puppy
animals/mammals/dogs/bobi_architetto_francesc_01 | Cartoon Bulldog
animals/mammals/dogs/bored_dog_01 | Bored Dog
animals/mammals/dog_on_leash_gerald_g._01 | Dog on a Leash
animals/mammals/dog_01_drawn_with_strai_01 | Yellow Dog Sitting
animals/mammals/horses/cavallo_architetto_franc_01 | Galloping Brown Horse
animals/mammals/horses/cavallo_architetto_franc_03 | Horse Head
animals/mammals/horses/cavallo_architetto_franc_05 | Horse With Blond Mane
animals/mammals/horses/cavallo_architetto_franc_06 | Brown Horse Trotting
animals/mammals/horses/cavallo_architetto_franc_07 | Running Horse
animals/mammals/bears/orso_architetto_francesc_01 | Brown Bear Face
animals/mammals/bears/orso_architetto_francesc_03 | Brown Bear Walking
animals/mammals/bears/orso_architetto_francesc_04 | Bear Head
animals/mammals/big_cats/tiger_graig_ryan_smith_-_01 | Tiger Face
animals/mammals/big_cats/color_tiger_susan_park_01 | Tiger
animals/mammals/big_cats/tigre04_architetto_franc_01 | Standing Tiger
animals/mammals/big_cats/b_w_tiger_susan_park_01 | Black and White Tiger
animals/mammals/big_cats/leone_01_architetto_fran_01 | Lion
animals/mammals/big_cats/leone_architetto_frances_01 | Lion Head
animals/mammals/elefante01_architetto_fr_01 | Elephant
unsorted/elefante_in_corsa | Running Elephant
animals/mammals/happy_monkey_benji_park_01 | Happy Monkey Face
animals/mammals/monkey_head_nicu_buculei_01 | Cartoon Monkey Head
animals/sailor_monkey_nicu_bucul_01 | Sailor Monkey
animals/birds/gufo_civetta_architetto__01 | Owl
animals/birds/owl_on_branch_ganson | Owl on a Branch
animals/birds/acquila_architetto_franc_02 | Eagle Head
animals/birds/gallo_di_profilo_archite_01 | Rooster
animals/birds/puffin-md | Puffin
animals/birds/emperor_penguin_ralf_ste_01 | Emperor Penguin
animals/birds/flamand_jean-victor_bali_01 | Pink Flamingo
animals/birds/cigno_di_spalle_architet_01 | White Swan
unsorted/Anatra | Duck
animals/bugs/ladybug_01 | Ladybug
animals/bugs/coccinellona_architetto__01 | Cartoon Ladybug
animals/bugs/butterfly_jonathan_dietr_01 | Butterfly
animals/bugs/butterfly_jonvdveen_01 | Purple Butterfly
animals/bugs/farfalla_stilizzata_arch_01 | Stylized Butterfly
animals/bugs/bee3_mimooh_01 | Cartoon Bee
animals/bugs/caterpillar_david_wislon_01 | Cartoon Caterpillar
animals/bugs/lumaca_architetto_france_01 | Snail
animals/fish/dolphin_enrique_meza_c_01 | Dolphin
animals/fish/seahorse | Seahorse
animals/fish/pescetto_arancione_archi_01 | Orange Fish
animals/fish/yellow_gourami_01 | Yellow Gourami Fish
animals/rana01_architetto_france_01 | Green Frog
animals/red-eye_frog_mirko_maisc_01 | Red-Eyed Tree Frog
animals/dinosaurs/dino_architetto_francesc_04 | Green Dinosaur
animals/dinosaurs/dino_architetto_francesc_06 | Stegosaurus | dinosaur
animals/dinosaurs/dino_architetto_francesc_10 | Pterodactyl | dinosaur
animals/dinosaurs/dinosauri_architetto_fra_02 | Triceratops | dinosaur
animals/mammals/pig_marcelo_caiafa1 | Pink Pig
animals/mammals/vacca_pezzata_rossa_val_01 | Spotted Cow
animals/mammals/sheep-md-v0.1 | Sheep
animals/mammals/coniglio_architetto_fran_01 | Rabbit
""",
    "Plants": """
plants/daffodil_jonathan_dietri_01 | Daffodil
plants/flowers/daffodil_susan_park_01 | Yellow Daffodil
plants/flowers/daisy_jonathan_dietrich_01 | Daisy
plants/flowers/flower1_juliane_krug_01 | Yellow Flower
plants/flowers/flower2_juliane_krug_01 | White Flower
plants/flowers/flower_01 | Blue Flower
plants/flowers/flower_02 | Red Flower
plants/flowers/flower_peterm_01 | Orange Flower
plants/flowers/flowerandpot_daniel_ste_r | Pink Flower in a Pot
plants/flowers/flowers_jonathan_dietric_01 | Yellow Flowers | | pl
plants/flowers/funnyflower_02 | Purple Flower
plants/flowers/geranium_ganson | Red Geraniums in a Pot | | pl
plants/flowers/magnolia_white_patricia__01 | White Magnolia
plants/flowers/pink-rose_tess_brady_01 | Pink Rose
plants/flowers/red_flower_01 | Red Flower With Stem
plants/flowers/sakura_dave_pena_01 | Pink Cherry Blossom
plants/flowers/sun_flower_ganson | Sunflower
plants/flowers/tulips_ganson | Pink Tulips | | pl
plants/flowers/bouquet_of_flowers_01 | Bouquet of Flowers
unsorted/rosa2 | Red Rose
unsorted/rose | Pink Roses | | pl
plants/arbre_modern_jean-victor_01 | Modern Tree
plants/fall_coloured_tree_geral_01 | Autumn Tree
plants/tree_branches_and_roots_01 | Tree With Roots
plants/trees/evergreen/simple_evergreen_with_highlights_01 | Evergreen Tree
plants/trees/evergreen/tree | Pine Tree
plants/palmtree_b_r_kessels_ | Palm Tree Silhouette
plants/bamboo_danny_allen_r | Bamboo | | pl
plants/olivier_one_jean-victor__01 | Olive Branch
plants/fall_coloured_leaf_geral_01 | Autumn Maple Leaf
plants/fall_coloured_leaf_geral_02 | Autumn Leaves | | pl
plants/leaf_01 | Yellow Leaf
plants/trees/fern_mo_01 | Fern Leaf
unsorted/foglie_verdi | Green Leaves | | pl
plants/acorn_jonathan_dietrich_01 | Acorn
plants/cacuts_01 | Cactus
plants/mushroom | Red Spotted Mushroom
plants/toadstool_daniel_steele_r | Toadstool
plants/mushroom_benji_park_ | Brown Mushroom
""",
    "People": """
people/woman_chemist_gerald_g._01 | Woman Chemist
people/woman_doctor_gerald_g._01 | Woman Doctor
people/woman_nurse_gerald_g._01 | Nurse
people/woman_police_01_gerald_g_01 | Policewoman
people/woman_police_02_gerald_g_01 | Policewoman in Uniform
people/woman_reading_gerald_g._01 | Woman Reading a Book
people/woman_fashion_01_gerald__01 | Woman in a Green Dress
people/woman_fashion_02_gerald__01 | Woman in a Purple Dress
people/bussiness_woman_donna_i_01 | Businesswoman
people/police_man_ganson | Cartoon Police Officer | police
people/man_01 | Cartoon Man in a Blue Jacket
people/man_02 | Cartoon Man in a Coat
people/groom1_jarno_vasamaa_01 | Groom in a Tuxedo
people/bride1_jarno_vasamaa_01 | Bride in a White Dress
people/wedding_couple_jarno_vas_ | Wedding Couple
people/kid_01 | Cartoon Kid
people/backpacker_ganson | Backpacker | hiking
people/hikinh_ganson | Hiker | hiking
people/ballerina_architetto_fra_01 | Ballerina | dancer;ballet
people/breakdance_juliane_krug_01 | Breakdancer | dancer
unsorted/ragazza_bionda | Blonde Girl
unsorted/ragazza_bruna | Brunette Girl
unsorted/ragazza_rossa | Red-Haired Girl
unsorted/ragazzo | Boy
unsorted/signorina_in_viola | Woman in a Purple Coat
unsorted/signorinacappello | Woman in a Purple Hat
unsorted/signorinafoulard | Woman With a Scarf
people/head3 | Bearded Man Face
people/head11 | Blonde Woman Face
people/head12 | Brown-Haired Woman Face
people/sailor_nicu_buculei_01 | Sailor
unsorted/carpentiere3 | Carpenter Sawing Wood
unsorted/imbianchino_in_piedi | House Painter | decorator;occupation | nosyn
unsorted/Traslocatore01 | Mover Carrying a Box | moving;occupation | nosyn
people/busy_mom_with_child_and_01 | Busy Mom With Child | mother
food/chef_jarno_vasamaa_ | Chef
people/smilies/smiley100 | Smiley Face
people/smilies/smiley102 | Sad Smiley Face | smiley
people/smilies/smiley110 | Smiley Face With Sunglasses
people/smilies/smiley112 | Angel Smiley Face
people/smilies/smiley115 | Sleeping Smiley Face
people/bodypart/thumbs_up_nathan_eady_01 | Thumbs Up | hand
people/grampa_39_n_gramma_celso_02 | Grandpa and Grandma | grandparents
people/people | Group of People | | pl
""",
    "Transportation": """
transportation/vehicles/car | Red Cartoon Car
transportation/car_jamin_ellis_ | Blue Sports Car | car
transportation/old_car_lumen_design_st_r | Vintage Car
transportation/formula_one_car_gerald_g_01 | Red Race Car | car;racing
recreation/holiday/sportcar_sergio_luiz_ara_01 | Red Sports Car | car
transportation/bus1_jarno_vasamaa_01 | Red Coach Bus
transportation/bus2_jarno_vasamaa_01 | Blue City Bus
transportation/bus1_bw_jarno_vasamaa_01 | Black and White Bus
transportation/tramway_lumen_design_stu_01 | Orange Tram
transportation/big_truck_01 | Semi Truck
transportation/truck_jarno_vasamaa1 | Blue Dump Truck
transportation/truck_jarno_vasamaa_ | Red Truck
transportation/small_truck_steffen_gluc_01 | Delivery Van | truck
unsorted/betoniera | Cement Mixer Truck
unsorted/Montacarichi | Forklift
transportation/vehicles/trattore_architetto_fran_01 | Farm Tractor
unsorted/ambulanza | Ambulance
transportation/vehicles/aircraft_jarno_vasamaa1 | Twin Propeller Airplane
transportation/vehicles/aircraft_jarno_vasamaa2 | Jet Airliner | airplane
transportation/vehicles/aircraft_jarno_vasamaa3 | Small Propeller Airplane
transportation/vehicles/aircraft_jarno_vasamaa4 | Private Jet | airplane
transportation/plane_in_the_sky_mo_01 | Cartoon Airplane
transportation/vehicles/plane_silhouet_mo_01 | Airplane Silhouette
transportation/pallone_aerestatico_arch_01 | Hot Air Balloon
transportation/vehicles/rocket | Cartoon Rocket
transportation/boating/boat_jarno_vasamaa1 | Schooner
transportation/boating/boat_jarno_vasamaa_ | Sailboat
transportation/boating/sailboat_illustration | Sailboat With Blue Sails
transportation/vehicles/trawler_01 | Fishing Boat
transportation/bicycle_philippe_colin_01 | Cyclist
transportation/bike_tobias_jakobs_ | Penny-Farthing Bicycle
transportation/vehicles/bicycle_01 | Purple Bicycle
transportation/vehicles/vtt_02 | Blue Mountain Bike | bicycle
transportation/motorcycle_jarno_vasama_ | Motorcycle
transportation/roadsigns/stop-sign-angled_01 | Stop Sign | sign
transportation/roadsigns/parking_romus_01 | Parking Sign
transportation/roadsigns/curvy_road_ahead_sign_01 | Curvy Road Ahead Sign
transportation/roadsigns/roundabout | Roundabout Sign
transportation/roadsigns/watch_for_bicycles_sign_01 | Watch for Bicycles Sign
transportation/roadsigns/Give_Way | Give Way Sign
""",
    "Buildings": """
buildings/homes/home0 | Alpine Chalet
buildings/homes/home1 | Row of Townhouses | house | pl
buildings/homes/home10 | Igloo
buildings/homes/home11 | Tepee
buildings/homes/home12 | Log Cabin
buildings/homes/home14 | Yellow House
buildings/homes/home3 | Half-Timbered Cottage
buildings/homes/home9 | Stone Cottage
buildings/homes/home6 | Thatched Cottage
buildings/homes/home7 | Adobe House
buildings/homes/big_house_01 | Apartment Building
buildings/homes/casa_dei_sogni_architett_01 | Dream House
buildings/homes/casa_in_campagna_archite_01 | Country House
buildings/homes/casa_plurifamigliare_arc_01 | Multi-Family House
buildings/homes/casa_verde_architetto_fr_01 | Green Cottage
buildings/homes/chalet_di_montagna_arch_01 | Mountain Chalet
buildings/homes/house_christoph_brill_01 | Three-Story House
buildings/homes/house_gabrielle_nowicki_ | House on a Hill
buildings/homes/house_juliane_krug_01 | Blue House
buildings/homes/my_house_01 | Small House
buildings/homes/pinkhome-simple | Pink Cartoon House
buildings/homes/pinkhome | Pink House With Stars
buildings/homes/lighthouse_matthew_gates_ | Lighthouse
transportation/vehicles/lighthouse_01 | Black and White Lighthouse
buildings/ch_teau-fort_01 | Castle
buildings/church_building_01_01 | Church
buildings/carnegie_library_building_01 | Library Building
buildings/factory_gabrielle_nowick_ | Factory
buildings/firestation_mimooh_01 | Fire Station
buildings/school_country__abiclipa_01 | Country Schoolhouse | school
buildings/eiffel_tower_michael_ja_r | Eiffel Tower | paris;landmark | the
unsorted/fattoria | Farm Barn
unsorted/grattacieli_grigi | Gray Skyscrapers | | pl
buildings/water_tower_ganson | Water Tower
buildings/grain_elevator_ganson | Grain Elevator
""",
    "Sports & Recreation": """
recreation/sports/soccer_ball_ganson | Soccer Ball
recreation/sports/soccer_ballon_tanguy_jac_ | Black and White Soccer Ball
recreation/sports/flaming_soccer_ball_01 | Flaming Soccer Ball
recreation/sports/basebalm_ganson | Baseball
recreation/sports/baseball_bat_ganson | Baseball Bat
recreation/sports/baseball_glove_ganson | Baseball Glove
recreation/sports/volley-ball_andrea_bianc_01 | Volleyball
recreation/sports/blowling_ball_01 | Bowling Ball
recreation/sports/football_helmet_gerald_g_01 | Football Helmet
recreation/sports/tennis_racket_01 | Tennis Racket
recreation/sports/table_tennis_omar_abo-na_01 | Table Tennis Paddles | ping pong | pl
recreation/sports/golf_flag_in_hole_on_gr_01 | Golf Flag on the Green
recreation/sports/target_with_arrow_virgin_01 | Archery Target With Arrow | archery
recreation/dartboard_ruud_steltenpo_01 | Dartboard | darts
recreation/sports/karate_kick_frouke_01 | Karate Kick | martial arts
recreation/sports/sport_stacco02 | Weightlifter | weightlifting;fitness
recreation/games/8_ball_jarno_vasamaa | Eight Ball | billiard
recreation/games/9_ball_jarno_vasamaa | Nine Ball | billiard
recreation/games/8ball_form_jarno_vasama | Racked Billiard Balls | billiard | pl
recreation/games/chess/chesspieces-king | Chess King
recreation/games/chess/chesspieces-queen | Chess Queen
recreation/games/chess/chesspieces-knight | Chess Knight
recreation/games/chess/chesspieces-rook | Chess Rook
recreation/games/chess/chesspieces-bishop | Chess Bishop
recreation/games/chess/chesspieces-pawn | Chess Pawn
recreation/games/chess/yet_another_chess_game_01 | Chessboard | chess
recreation/games/two_red_dice_01 | Two Red Dice | | pl
recreation/dice | White Die
recreation/toys/simple_teddy_bear_gerald_01 | Teddy Bear | toy
recreation/toys/simple_teddy_bear_with__01 | Teddy Bear With Bow Tie | toy
recreation/toys/stylized_teddy_bear_wit_01 | Teddy Bear With Heart | toy
recreation/toys/rubber_duck1_ganson | Rubber Duck | toy
recreation/toys/rubber_ducks_ganson | Rubber Ducks in a Row | toy | pl
recreation/toys/beach_ball_01 | Beach Ball | toy
recreation/toys/abc_blocks_petri_lummema_01 | ABC Blocks | toy | pl
recreation/toys/kiddy_train_orlando_kara_ | Toy Train
recreation/toys/robot_ganson | Toy Robot
recreation/toys/toy_paper_plane_01 | Paper Airplane | toy
recreation/toys/wagon_01 | Red Wagon | toy
recreation/sledge_01 | Sled | winter
recreation/toys/surfboard_davek_01 | Surfboard | surfing
unsorted/tenda_da_campeggio_archi_01 | Camping Tent | camping
unsorted/zaino_per_montagna | Hiking Backpack | camping
recreation/party/fire_valessio_soares_de_ | Campfire | camping
recreation/knitting_01 | Ball of Yarn With Knitting Needles | knitting;craft
""",
    "Music": """
recreation/music/guitar_ganson | Cartoon Acoustic Guitar
recreation/music/guitar_jarno_vasamaa1 | Acoustic Guitar
recreation/music/guitar_jarno_vasamaa2 | Electric Guitar
recreation/music/electric_guitar_andrea__01r | Black Electric Guitar
recreation/music/bass_guitar_a.j._ashton_ | Bass Guitar
recreation/music/violin_colour_ganson | Violin
recreation/music/violin_ganson | Black and White Violin
recreation/music/cello_ganson | Cello
recreation/music/harp1_ganson | Celtic Harp
recreation/music/harp2_ganson | Concert Harp
recreation/music/trumpet_b_flat_colour_ganso | Gold Trumpet
recreation/music/trumpet_b_flat__ganson | Trumpet Line Drawing
recreation/music/trumpet_pocket_colour_ganso | Pocket Trumpet
recreation/music/trumpet_herald__ganson | Herald Trumpet With Banner
recreation/music/tenor_trombone_ganson | Trombone
recreation/music/french_horn_ganson | French Horn
recreation/music/flute_ganson | Flute
recreation/music/oboe_ganson | Oboe
recreation/music/saxophone_jarno_vasamaa_ | Saxophone
recreation/music/drums_jarno_vasamaa_ | Blue Drum Kit | drums
recreation/music/africandrum_benji_park1 | African Drum
recreation/music/djambf_ganson | Djembe
recreation/music/maracas_ganson | Maracas | | pl
recreation/music/xylophone_ganson | Xylophone
recreation/music/piano_geraint_luff_01 | Upright Piano
recreation/music/piano_keys_jonathan_diet_01 | Piano Keys | | pl
recreation/music/fifties_jukebox_gerald_g_01 | Fifties Jukebox
recreation/music/microphone_stand_gerald__01 | Microphone Stand | microphone
recreation/music/45_rpm_record_gerald_g._01 | Vinyl Record | record
recreation/music/45_rpm_record_gerald_g._03 | Vinyl Record With Blue Label | record
recreation/music/45_rpm_records_gerald_g._01 | Stack of Vinyl Records | records
recreation/music/vinyl_disc_philippe_coli_01 | Record Player | record;turntable
recreation/music/treble_clef_01 | Treble Clef
recreation/music/bass_clef_01 | Bass Clef on a Staff
recreation/music/treble_staff_with_notes_01 | Musical Staff With Notes
recreation/music/musical_note_nicu_bucule_01 | Eighth Note | note
recreation/music/double_note_jean-victor__01 | Beamed Eighth Notes | notes | pl
recreation/music/musical_note_1_dennis_bo_01 | Quarter Note | note
""",
    "Holidays": """
recreation/holiday/christmas/fatherchristmas_01 | Santa Claus Face | santa
recreation/holiday/christmas/jingle_bells_01 | Jingle Bells | christmas;bells | pl
recreation/holiday/christmas/xmas | Christmas Tree
plants/trees/christmas_tree_mo_01 | Decorated Christmas Tree
plants/trees/evergreen/christmas_tree_01 | Christmas Tree With Star
plants/trees/christmas_balls_mo_01 | Christmas Ornaments | | pl
decorations/evergreen_wreath_with_large_holly_01 | Christmas Wreath With Holly
decorations/wreath_of_evergreen_with_red_berries_01 | Evergreen Wreath With Red Berries | wreath
recreation/holiday/snowman_01 | Snowman
food/desserts/candy_10 | Candy Cane | christmas;candy
recreation/holiday/gift01 | Yellow Gift Box | gift
recreation/holiday/gift02 | Green Gift Box | gift
recreation/holiday/gift03 | Blue Gift Box | gift
recreation/holiday/gift04 | Pink Gift Box | gift
recreation/party/pacco_regalo_architetto__01 | Wrapped Birthday Present | gift
recreation/holiday/valentines/heart | Red Heart
recreation/holiday/valentines/heart-arrow_benji_park_01 | Heart With Arrow
recreation/holiday/valentines/heart-ballons_benji_park_01 | Heart Balloons | | pl
recreation/holiday/valentines/heart_cluster_jon_philli_01 | Cluster of Hearts | hearts
recreation/holiday/valentines/heart_jon_phillips_01 | Cartoon Red Heart
people/clothing/jewelry/wedding_rings_jarno_vas1 | Wedding Rings With Heart | wedding | pl
recreation/holiday/easter/easter_jorkon_01 | Easter Bunny | rabbit
food/pumpkin2_yemu_01 | Jack-o'-Lantern | halloween;pumpkin
food/pumpkin_erik_postma_01 | Carved Jack-o'-Lantern | halloween;pumpkin
animals/mammals/housecats/gatto_nero_architetto_fr_01 | Black Cat on a Jack-o'-Lantern | halloween;cat
animals/bat_orlando_karam_ | Bat Silhouette | halloween
animals/birds/tacchino_architetto_fran_01 | Cartoon Turkey | thanksgiving
food/thanksgiving_spread_01 | Thanksgiving Turkey Dinner | turkey
plants/shamrock_for_march_natha_01 | Four-Leaf Clover | clover
plants/shamrock_symbol_jonadab__01 | Shamrock
recreation/holiday/fireworks_ganson1 | Green Fireworks | | pl
recreation/holiday/fireworks__ganson | Colorful Fireworks | | pl
recreation/party/balloons-aj | Bunch of Balloons
recreation/party/balloon-red-aj | Red Balloon
recreation/party/balloon-blue-aj | Blue Balloon
recreation/party/balloon-yellow-aj | Yellow Balloon
recreation/party/balloons_01 | Three Party Balloons | | pl
food/desserts/birthday_cake | Birthday Cake | birthday
food/desserts/flat_cake_jean-victor_ba_01 | Birthday Cake With Candles | birthday
people/clothing/hats/hat_01 | Striped Party Hat | party;birthday
unsorted/ghirlande_festa | Party Streamers | party | pl
recreation/holiday/midautumn1_01 | Mid-Autumn Festival Lantern | lantern
""",
    "Household": """
buildings/furniture/sedia_in_legno_architett_01 | Wooden Folding Chair
buildings/furniture/poltrona_ufficio_archite_01 | Blue Office Chair | chair
buildings/furniture/soft_blue_couch_jonadab_01 | Blue Couch
buildings/furniture/wooden_table_benji_park_01 | Wooden Table
buildings/furniture/mobile_architetto_france_01 | Cabinet With Lamp | furniture
office/desk_lamp_gerald_g._01 | Desk Lamp
office/liberty_architetto_franc_01 | Stained Glass Lamp
buildings/furniture/television_peterm_ | Retro Television
office/picture_frame_jakob_chao_ | Picture Frame
tools/scolapasta_e_pentola_arc_01 | Colander and Pot | kitchen;cooking
tools/pan_frouke_01 | Frying Pan | kitchen;cooking
tools/broom_nicu_buculei_01 | Broom
tools/blue_vacuum_cleaner_jaim_01 | Vacuum Cleaner
tools/secchio_e_spugna_archite_01 | Bucket and Sponge | cleaning
tools/ferro_da_stiro_architett_01 | Clothes Iron
tools/ironing_board_gerald_g._01 | Ironing Board | laundry
tools/toothbrush_and_paste_ganson | Toothbrush and Toothpaste
tools/hammer_nicu_buculei_01 | Hammer
tools/construction_hammer_jon__01 | Claw Hammer
tools/utensile_sega_architetto_01 | Hand Saw
tools/tools_nicu_buculei_01 | Wrench and Screwdriver
tools/drill_peterm_ | Power Drill
tools/paint_brush_costea_bogda_01 | Paint Brush
tools/paint_roller_gerald_g._01 | Paint Roller
tools/livella_architetto_franc_01 | Spirit Level | tool
tools/viti_architetto_francesc_01 | Screws | tool;hardware | pl
tools/roundpointshovel_benji_p_01 | Shovel
tools/leafrake_benji_park_01 | Leaf Rake
tools/trowel_benji_park_01 | Garden Trowel
tools/hedgeshear_benji_park_01 | Hedge Shears | | pl
unsorted/scala_doppia | Stepladder | ladder
unsorted/metro_avvolgibile | Tape Measure | tool
tools/lock | Yellow Padlock
animals/lucchetto_ottone_archite_01 | Brass Padlock
tools/key_jordan_wiens_01 | Key
tools/keyring_as_ | Key Ring | key
tools/umbrella | Umbrella
tools/hurricane_lamp_ganson | Hurricane Lantern
signs_and_symbols/clocks/alarm_clock_mike_powers_ | Alarm Clock
signs_and_symbols/clocks/modern_clock_chris_kemps_01 | Modern Wall Clock
signs_and_symbols/clocks/orologio_da_parete_archi_01 | Wall Clock
signs_and_symbols/clocks/sandglass_vermin_ | Hourglass
education/scissors | Scissors | | pl
signs_and_symbols/money/piggybank | Piggy Bank | savings;money
containers/closed_box_juliane_krug_ | Cardboard Box
containers/cesto_architetto_frances_01 | Yellow Basket
office/telephone/telefono_email_frolland_01 | Rotary Telephone
""",
}


# ---------------------------------------------------------------------------------------------------------------
def slugify(text: str) -> str:
    text = text.lower().replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def parse_selection() -> list[dict]:
    entries = []
    for category, block in SELECTION.items():
        for line in block.strip().splitlines():
            parts = [p.strip() for p in line.split("|")]
            parts += [""] * (4 - len(parts))
            src, title, extra, flags = parts[:4]
            entries.append({
                "category": category,
                "src": src + ".png",
                "title": title,
                "extra": [k.strip().lower() for k in extra.split(";") if k.strip()],
                "flags": set(flags.split()),
            })
    return entries


def assign_ids(entries: list[dict]) -> None:
    counts: dict[str, int] = {}
    for e in entries:
        base = f"{CATEGORIES[e['category']][0]}-{slugify(e['title'])}"
        counts[base] = counts.get(base, 0) + 1
    seen: dict[str, int] = {}
    for e in entries:
        base = f"{CATEGORIES[e['category']][0]}-{slugify(e['title'])}"
        if counts[base] > 1:
            seen[base] = seen.get(base, 0) + 1
            e["id"] = f"{base}-{seen[base]}"
        else:
            e["id"] = base


def title_words(title: str) -> list[str]:
    """Keyword candidates from a title: 'black and white' and a few two-word subjects kept whole."""
    t = title.lower()
    out = []
    for phrase in PHRASES:
        if phrase in t:
            out.append(phrase)
            t = t.replace(phrase, " ")
    for w in re.split(r"[^a-z'\-]+", t):
        w = w.strip("-'")
        if w and w not in STOPWORDS and len(w) > 1:
            out.append(w)
    return out


def keywords_for(e: dict) -> str:
    words = title_words(e["title"])
    cands: list[str] = []
    for w in words + e["extra"]:
        if w not in cands:
            cands.append(w)
    # synonyms come from the subject (the part before "With ..."), never from accessories
    subject = title_words(re.split(r" With ", e["title"])[0])
    for w in ([] if "nosyn" in e["flags"] else subject + e["extra"]):
        if w == "orange" and not re.fullmatch(r"Orange( Slice| With Leaves)?", e["title"]):
            continue  # the colour, not the fruit
        for s in SYNONYMS.get(w, []):
            if s not in cands:
                cands.append(s)
    cat_kw = CATEGORIES[e["category"]][1]
    tail = [k for k in (cat_kw, "clipart") if k not in cands[:6]]
    kws = cands[: 8 - len(tail)] + tail
    if len(kws) < 3:
        kws.append("illustration")
    return ";".join(kws[:8])


def article(phrase: str) -> str:
    low = phrase.lower()
    if low.startswith(("one", "uni", "eu", "use")):
        return "a"
    if low.startswith("hour"):
        return "an"
    return "an" if low[:1] in "aeiou" else "a"


def description_for(e: dict) -> str:
    phrase = e["title"].lower()
    for p in PROPER:
        phrase = phrase.replace(p.lower(), p)
    if "the" in e["flags"]:
        phrase = "the " + phrase
    elif "pl" not in e["flags"]:
        phrase = f"{article(phrase)} {phrase}"
    return (f"Public-domain clipart of {phrase}, in the {e['category']} category. "
            f"From the OpenClipart collection, free to use for any purpose.")


# ---------------------------------------------------------------------------------------------------------------
def content_bbox(im: Image.Image) -> tuple[int, int, int, int] | None:
    """The box around the drawing: non-transparent pixels, or non-white ones for opaque images."""
    alpha = im.getchannel("A")
    lo, _hi = alpha.getextrema()
    if lo < 250:  # has transparency
        return alpha.point(lambda v: 255 if v > 8 else 0).getbbox()
    gray = im.convert("L")
    return gray.point(lambda v: 255 if v < 247 else 0).getbbox()


def render(src: Path, size: int) -> tuple[bytes, tuple[int, int], tuple[int, int]]:
    Image.MAX_IMAGE_PIXELS = None  # a few package PNGs are very large drawings; all are trusted local files
    with Image.open(src) as im:
        im.load()
        rgba = im.convert("RGBA")
    box = content_bbox(rgba)
    if box:
        x0, y0, x1, y1 = box
        pad = max(2, round(max(x1 - x0, y1 - y0) * 0.03))
        box = (max(0, x0 - pad), max(0, y0 - pad), min(rgba.width, x1 + pad), min(rgba.height, y1 + pad))
        rgba = rgba.crop(box)
    cropped = rgba.size
    w, h = rgba.size
    if max(w, h) > size:
        scale = size / max(w, h)
        new = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgba = rgba.resize(new, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = rgba
    if out.getchannel("A").getextrema()[0] == 255:
        out = out.convert("RGB")  # fully opaque: no alpha channel needed
    out.info = {}
    buf = io.BytesIO()
    out.save(buf, format="PNG", optimize=True)  # no pnginfo / text chunks, no timestamps
    return buf.getvalue(), cropped, out.size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE, help="longest side in pixels (default 256)")
    ap.add_argument("--source", type=Path, default=SOURCE_ROOT, help="openclipart png folder")
    ap.add_argument("--out", type=Path, default=CONTENT, help="content folder to write (default: this repo's)")
    args = ap.parse_args(argv)

    if not args.source.is_dir():
        print(f"{args.source} not found: apt-get install openclipart-png", file=sys.stderr)
        return 2
    entries = parse_selection()
    assign_ids(entries)

    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "duplicate ids"
    srcs = [e["src"] for e in entries]
    dup_src = {s for s in srcs if srcs.count(s) > 1}
    assert not dup_src, f"source used twice: {sorted(dup_src)}"

    images_dir = args.out / "images"
    if images_dir.exists():
        shutil.rmtree(images_dir)
    rows = []
    for e in entries:
        src = args.source / e["src"]
        data, cropped, final = render(src, args.size)
        folder = CATEGORIES[e["category"]][0]
        rel = f"images/{folder}/{e['id']}.png"
        dest = args.out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        if max(cropped) < 96:
            print(f"note: {e['src']} is only {cropped[0]}x{cropped[1]} px after cropping", file=sys.stderr)
        rows.append({
            "id": e["id"],
            "title": e["title"],
            "description": description_for(e),
            "keywords": keywords_for(e),
            "category": e["category"],
            "image": rel,
            "date": DATE,
        })
    rows.sort(key=lambda r: (r["category"], r["id"]))
    with open(args.out / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "title", "description", "keywords", "category", "image", "date"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    per_cat: dict[str, int] = {}
    for r in rows:
        per_cat[r["category"]] = per_cat.get(r["category"], 0) + 1
    for c, n in sorted(per_cat.items()):
        print(f"{n:4d}  {c}")
    print(f"{len(rows):4d}  images in total -> {args.out / 'catalog.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
