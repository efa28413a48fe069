"""Name lists for the synthetic district.

Modest, varied lists of common US given and family names; the generator
combines them with a seeded RNG, so any real person sharing a generated name
does so by chance. Emails and phone numbers built from them use reserved
example domains and the 555-01xx fictional range.
"""

from __future__ import annotations

# fmt: off
FEMALE_GIVEN_NAMES: tuple[str, ...] = (
    "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Evelyn", "Luna", "Harper",
    "Sofia", "Camila", "Eleanor", "Elizabeth", "Violet", "Scarlett", "Emily", "Hazel", "Lily", "Gianna",
    "Aurora", "Penelope", "Aria", "Nora", "Chloe", "Ellie", "Mila", "Avery", "Layla", "Abigail", "Madison",
    "Grace", "Zoey", "Riley", "Victoria", "Nova", "Hannah", "Stella", "Leah", "Naomi", "Maya", "Ximena",
    "Valentina", "Lucia", "Daniela", "Mariana", "Gabriela", "Guadalupe", "Renata", "Aaliyah", "Imani", "Nia",
    "Zuri", "Destiny", "Jasmine", "Kiara", "Aisha", "Amara", "Ayanna", "Mei", "Hana", "Yuna", "Priya",
    "Ananya", "Aditi", "Linh", "Mai", "Jia", "Sakura", "Fatima", "Mariam", "Noor", "Leila", "Sara", "Ingrid",
    "Freya", "Astrid", "Maren", "Anya", "Katherine", "Margaret", "Samantha", "Jennifer", "Rachel", "Rebecca",
    "Natalie", "Claire", "Julia", "Audrey", "Savannah", "Brooklyn", "Paisley", "Kinsley", "Addison", "Skylar",
    "Quinn", "Genesis", "Willow", "Ruby",
)

MALE_GIVEN_NAMES: tuple[str, ...] = (
    "Liam", "Noah", "Oliver", "James", "Elijah", "William", "Henry", "Lucas", "Benjamin", "Theodore", "Mateo",
    "Levi", "Sebastian", "Daniel", "Jack", "Michael", "Alexander", "Owen", "Asher", "Samuel", "Ethan", "Leo",
    "Jackson", "Mason", "Ezra", "John", "Hudson", "Luca", "Aiden", "Joseph", "David", "Jacob", "Logan",
    "Luke", "Julian", "Gabriel", "Grayson", "Wyatt", "Matthew", "Maverick", "Santiago", "Diego", "Alejandro",
    "Carlos", "Miguel", "Javier", "Emiliano", "Joaquin", "Andres", "Rafael", "Jamal", "Malik", "Darius",
    "Andre", "Isaiah", "Xavier", "Jalen", "Marcus", "Terrence", "Kofi", "Wei", "Hiroshi", "Kenji", "Minh",
    "Arjun", "Rohan", "Vikram", "Jun", "Tuan", "Sanjay", "Omar", "Yusuf", "Ahmed", "Ali", "Hassan", "Erik",
    "Lars", "Nikolai", "Dmitri", "Mikhail", "Christopher", "Nicholas", "Jonathan", "Anthony", "Zachary",
    "Nathaniel", "Timothy", "Joshua", "Andrew", "Robert", "Caleb", "Isaac", "Dylan", "Ryan", "Connor",
    "Cameron", "Colton", "Brandon", "Tyler", "Austin",
)

FAMILY_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez",
    "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart",
    "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks",
    "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell",
    "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez",
    "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin",
    "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina",
    "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb",
    "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner",
    "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice",
    "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner",
    "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Wang", "Li", "Zhang", "Liu", "Yang", "Huang",
    "Wu", "Pham", "Le", "Hoang", "Park", "Choi", "Yamamoto", "Tanaka", "Sato", "Suzuki", "Shah", "Singh",
    "Kumar", "Gupta", "O'Brien", "O'Connor", "Murphy-Lee", "Okafor", "Adeyemi", "Mensah", "Abdi", "Haddad",
    "Nasser", "Kowalski", "Novak", "Horvat", "Jensen", "Larsen", "Johansson", "Ivanov", "Petrov", "Rossi",
    "Russo", "Bianchi",
)
# fmt: on

NICKNAMES: dict[str, str] = {
    "Abigail": "Abby",
    "Alexander": "Alex",
    "Alejandro": "Alex",
    "Andrew": "Drew",
    "Benjamin": "Ben",
    "Christopher": "Chris",
    "Daniel": "Danny",
    "Eleanor": "Ellie",
    "Elizabeth": "Liz",
    "Evelyn": "Evie",
    "Gabriel": "Gabe",
    "Isabella": "Bella",
    "Jacob": "Jake",
    "James": "Jamie",
    "Jennifer": "Jenny",
    "Jonathan": "Jon",
    "Joseph": "Joe",
    "Joshua": "Josh",
    "Katherine": "Kate",
    "Madison": "Maddie",
    "Margaret": "Maggie",
    "Matthew": "Matt",
    "Michael": "Mike",
    "Nathaniel": "Nate",
    "Nicholas": "Nick",
    "Penelope": "Penny",
    "Rebecca": "Becca",
    "Robert": "Bobby",
    "Samantha": "Sam",
    "Samuel": "Sam",
    "Theodore": "Teddy",
    "Timothy": "Tim",
    "Victoria": "Tori",
    "William": "Will",
    "Zachary": "Zach",
}

# fmt: off
SCHOOL_NAMESAKES: tuple[str, ...] = (
    "Lincoln", "Roosevelt", "Jefferson", "Washington", "Kennedy", "Adams", "Madison", "Franklin", "Hamilton",
    "Monroe", "Garfield", "Grant", "McKinley", "Wilson", "Truman", "Eisenhower", "Martin Luther King Jr.",
    "Rosa Parks", "George Washington Carver", "Thurgood Marshall", "Harriet Tubman", "Frederick Douglass",
    "Cesar Chavez", "Sequoyah", "Sacagawea", "Edison", "Whitman", "Mark Twain", "Emerson", "Thoreau",
    "Hawthorne", "Longfellow", "Robert Frost", "Emily Dickinson", "Helen Keller", "Amelia Earhart",
    "Marie Curie", "Sally Ride", "Jackie Robinson", "Clara Barton", "Susan B. Anthony",
    "Booker T. Washington", "Maya Angelou", "Langston Hughes", "Oak Grove", "Maple Ridge", "Cedar Hills",
    "Willow Creek", "Pine View", "Riverside", "Lakeview", "Meadowbrook", "Highland", "Fairview", "Hillcrest",
    "Brookside", "Valley View", "Eastside", "Westwood", "Northridge", "Southgate", "Parkside", "Greenfield",
    "Sunset Ridge", "Spring Valley", "Prairie View", "Red Rock", "Silver Lake", "Stonegate", "Timberline",
    "Bayside", "Canyon View",
)
# fmt: on

DISTRICT_PLACES: tuple[tuple[str, str], ...] = (
    ("Maple Valley", "maplevalley"),
    ("Cedar Falls", "cedarfalls"),
    ("Riverbend", "riverbend"),
    ("Pine Ridge", "pineridge"),
    ("Lakeside", "lakeside"),
    ("Brookfield", "brookfield"),
    ("Fairmont", "fairmont"),
    ("Harbor View", "harborview"),
    ("Stonebridge", "stonebridge"),
    ("Clearwater", "clearwater"),
    ("Willow Springs", "willowsprings"),
    ("Granite Hills", "granitehills"),
)

DISTRICT_KINDS: tuple[str, ...] = (
    "Unified School District",
    "Public Schools",
    "Independent School District",
    "School District",
    "Community Schools",
)

AREA_CODES: tuple[str, ...] = ("206", "303", "312", "404", "503", "512", "608", "614", "720", "919")

US_BIRTH_PLACES: tuple[tuple[str, str], ...] = (
    ("WA", "Seattle"),
    ("OR", "Portland"),
    ("CA", "Los Angeles"),
    ("CA", "San Diego"),
    ("TX", "Houston"),
    ("TX", "Austin"),
    ("IL", "Chicago"),
    ("NY", "New York"),
    ("FL", "Miami"),
    ("GA", "Atlanta"),
    ("OH", "Columbus"),
    ("CO", "Denver"),
    ("AZ", "Phoenix"),
    ("MN", "Minneapolis"),
    ("NC", "Raleigh"),
    ("WI", "Madison"),
)

FOREIGN_BIRTH_PLACES: tuple[tuple[str, str], ...] = (
    ("MX", "Guadalajara"),
    ("MX", "Monterrey"),
    ("GT", "Guatemala City"),
    ("SV", "San Salvador"),
    ("HN", "Tegucigalpa"),
    ("VN", "Ho Chi Minh City"),
    ("CN", "Shanghai"),
    ("IN", "Hyderabad"),
    ("PH", "Manila"),
    ("UA", "Kyiv"),
    ("SO", "Mogadishu"),
    ("AF", "Kabul"),
    ("SY", "Aleppo"),
    ("ET", "Addis Ababa"),
)
